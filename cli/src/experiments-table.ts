/**
 * GET /v1/experiments as the terminal shows it. Pure: the API's JSON in, lines out. The newest counted
 * event and the open alerts are read as optional: a stats service from before them sends neither ("—").
 */
import type { Static } from '@sinclair/typebox';
import type { ExperimentsResponseSchema } from '../../services/stats/src/index.ts';
import { formatCount, formatTime, NONE } from './figures.ts';
import { isRecord } from './stats-api.ts';
import { renderTable, type Cell, type Paint } from './text-table.ts';

export type ExperimentsList = Static<typeof ExperimentsResponseSchema>;

/** True when `body` has the list's shape (else --url is not the stats API). */
export function isExperimentsList(body: unknown): body is ExperimentsList {
  return isRecord(body) && typeof body['project'] === 'string' && Array.isArray(body['experiments']);
}

export function experimentsLines(body: ExperimentsList, paint: Paint): string[] {
  const n = body.experiments.length;
  if (n === 0) return [`Project ${body.project} has no experiments yet (no exposure received).`];
  const rows = body.experiments.map((e): Cell[] => {
    const health = e as Partial<Pick<typeof e, 'last_event_at' | 'open_alerts' | 'open_alerts_by_kind'>>;
    return [
      e.experiment,
      formatCount(e.units),
      e.variations.map((v) => `${v.variation} ${formatCount(v.units)}`).join(', '),
      formatCount(e.multiple_exposure_units),
      formatTime(e.first_exposure_at),
      formatTime(e.last_exposure_at),
      formatTime(health.last_event_at ?? null),
      alertsCell(health.open_alerts, health.open_alerts_by_kind),
    ];
  });
  return [
    `Project ${body.project}: ${n} experiment${n === 1 ? '' : 's'}`,
    ...renderTable(
      [
        { header: 'experiment', align: 'left' },
        { header: 'units', align: 'right' },
        { header: 'variations (units)', align: 'left' },
        { header: 'multiple exposures', align: 'right' },
        { header: 'first exposure', align: 'left' },
        { header: 'newest unit', align: 'left' },
        { header: 'newest event', align: 'left' },
        { header: 'open alerts', align: 'left' },
      ],
      rows,
      paint,
    ),
  ];
}

/** "0", or "2 (srm 1, guardrail 1)" in red: the listing's count and its kinds. */
function alertsCell(open: number | undefined, byKind: Partial<Record<string, number>> | undefined): Cell {
  if (open === undefined) return NONE;
  if (open === 0) return '0';
  const kinds = Object.entries(byKind ?? {})
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([kind, n]) => `${kind} ${formatCount(n ?? 0)}`)
    .join(', ');
  return { text: `${formatCount(open)}${kinds === '' ? '' : ` (${kinds})`}`, style: 'red' };
}
