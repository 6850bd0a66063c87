/**
 * A CUPED metric's sentence saying which lifts its block shows and why (CUPED-adjusted by default: the
 * same lift estimated with less variance), with the API's variance reduction per treatment, the switch to
 * the unadjusted figures and back, and the API's note on what the covariate covers.
 */
import type { Adjustment, CupedView } from '../figures.ts';
import { formatDays, formatShare } from '../format.ts';
import { Figure } from './figure.tsx';

export interface Reduction {
  variation: string;
  /** The API's variance_reduction of this treatment's comparison; null when it has none. */
  value: number | null;
}

const CHOICES: [Adjustment, string][] = [
  ['cuped', 'CUPED-adjusted'],
  ['unadjusted', 'Unadjusted'],
];

export function CupedChoice(props: {
  id: string;
  metric: string;
  cuped: CupedView;
  reductions: Reduction[];
  adjustment: Adjustment;
  onChange: (adjustment: Adjustment) => void;
}) {
  const { cuped, reductions } = props;
  const covariate = `each unit's ${cuped.covariate} in the ${formatDays(cuped.days)} before its first exposure`;
  // "More precise" only when the API says the variance went down for every treatment.
  const helped = reductions.length > 0 && reductions.every((r) => r.value !== null && r.value > 0);
  const reduced =
    reductions.length === 0 ? (
      'not known yet'
    ) : (
      <>
        {'reduced by '}
        {reductions.map((r, i) => (
          <span key={r.variation} data-variation={r.variation}>
            {i === 0 ? '' : i === reductions.length - 1 ? ' and ' : ', '}
            <Figure name="variance-reduction" value={r.value} text={formatShare(r.value)} />
            {reductions.length > 1 ? ` (${r.variation})` : ''}
          </span>
        ))}
      </>
    );
  return (
    <div class="cuped" data-adjustment={props.adjustment}>
      <fieldset class="segmented segmented-small" aria-describedby={`${props.id}-note`}>
        <legend class="sr-only">{props.metric}: lift, interval and p-value</legend>
        {CHOICES.map(([value, label]) => (
          <label key={value}>
            <input
              type="radio"
              name={`${props.id}-adjustment`}
              value={value}
              checked={props.adjustment === value}
              onChange={() => props.onChange(value)}
            />
            <span>{label}</span>
          </label>
        ))}
      </fieldset>
      <p class="cuped-note" id={`${props.id}-note`}>
        {props.adjustment === 'cuped' ? (
          <>
            Lift, interval and p-value are <strong>CUPED-adjusted</strong> using {covariate}: variance{' '}
            {reduced}
            {helped ? ', so the same lift is estimated more precisely.' : '.'}
          </>
        ) : (
          <>
            Lift, interval and p-value are <strong>unadjusted</strong>. The CUPED-adjusted ones (the default)
            use {covariate}: variance {reduced}.
          </>
        )}
      </p>
      <details class="cuped-about">
        <summary>About the covariate</summary>
        <p>{cuped.note}</p>
      </details>
    </div>
  );
}
