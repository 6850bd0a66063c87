/** The health and status badges shared by the experiments list and the experiment page. */
import type { SrmBlock } from '../api-types.ts';
import { formatAgo, formatCount, formatPValue } from '../format.ts';
import { Badge, Figure } from './figure.tsx';

/** An experiment is running while some unit was first exposed within the last hour. */
export const RUNNING_WITHIN_MS = 3_600_000;

export function isRunning(lastExposureAt: string | null, nowMs: number): boolean {
  return lastExposureAt !== null && nowMs - Date.parse(lastExposureAt) < RUNNING_WITHIN_MS;
}

export function StatusBadge(props: { lastExposureAt: string | null; nowMs: number }) {
  return isRunning(props.lastExposureAt, props.nowMs) ? (
    <Badge tone="live" title="A unit was first exposed within the last hour">
      Running
    </Badge>
  ) : (
    <Badge
      tone="neutral"
      title={`No unit first exposed in the last hour (last: ${formatAgo(props.lastExposureAt, props.nowMs)})`}
    >
      Idle
    </Badge>
  );
}

/** SRM: mismatch below `alarmBelow`, else ok; unknown when the API has no p-value (or a problem). */
export function SrmBadge(props: {
  srm: SrmBlock | null | undefined;
  alarmBelow: number;
  problem?: string | null;
}) {
  const p = props.srm?.p_value ?? null;
  if (props.srm === undefined) return null;
  if (p === null) {
    return (
      <Badge tone="neutral" title={props.problem ?? 'Not enough variations or units for the SRM check'}>
        SRM n/a
      </Badge>
    );
  }
  const text = formatPValue(p);
  const relation = text.startsWith('<') ? 'p ' : 'p = ';
  return p < props.alarmBelow ? (
    <Badge
      tone="bad"
      title={`Sample ratio mismatch: the split differs from the expected one (p < ${props.alarmBelow})`}
    >
      SRM mismatch ({relation}
      <Figure name="srm-p" value={p} text={text} />)
    </Badge>
  ) : (
    <Badge tone="good" title={`Split as expected: SRM p-value ≥ ${props.alarmBelow}`}>
      SRM ok ({relation}
      <Figure name="srm-p" value={p} text={text} />)
    </Badge>
  );
}

export function MultipleExposureBadge(props: { units: number }) {
  if (props.units === 0) return null;
  return (
    <Badge tone="warn" title="Units exposed to two or more variations: left out of every variation">
      <Figure name="multiple-exposure" value={props.units} text={formatCount(props.units)} />{' '}
      multiple-exposure units
    </Badge>
  );
}

/** "srm 1, guardrail 1": the API's open alerts per kind, for a badge's title. */
export function alertKindsText(byKind: Partial<Record<string, number>> | undefined): string {
  return Object.entries(byKind ?? {})
    .filter(([, n]) => n !== undefined && n > 0)
    .map(([kind, n]) => `${kind} ${formatCount(n ?? 0)}`)
    .join(', ');
}

/** Open alerts (raised, not cleared): nothing when none, or when the API does not report them. */
export function OpenAlertsBadge(props: {
  count: number | undefined;
  byKind?: Partial<Record<string, number>> | undefined;
}) {
  if (props.count === undefined || props.count === 0) return null;
  const kinds = alertKindsText(props.byKind);
  return (
    <Badge
      tone="bad"
      title={`Alerts raised and not cleared${kinds === '' ? '' : ` (${kinds})`}: see GET /v1/alerts`}
    >
      <Figure name="open-alerts" value={props.count} text={formatCount(props.count)} /> open alert
      {props.count === 1 ? '' : 's'}
    </Badge>
  );
}
