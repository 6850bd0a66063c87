/**
 * How old an API timestamp is, kept current every second: the timestamp itself is the API's (the
 * `datetime` attribute, and the full date in the title), only the age is worked out here, never negative.
 */
import { formatAge, formatDateTime } from '../format.ts';
import { useNow } from '../use-now.ts';

/** How often the age is brought up to date, ms. */
export const AGE_TICK_MS = 1_000;

export function Age(props: { iso: string | null; name: string }) {
  const now = useNow(AGE_TICK_MS);
  return (
    <time dateTime={props.iso ?? undefined} title={formatDateTime(props.iso)} data-field={props.name}>
      {formatAge(props.iso, now)}
    </time>
  );
}
