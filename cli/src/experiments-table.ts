/**
 * GET /v1/experiments as the terminal shows it. Pure: the API's JSON in, lines out.
 */
import type { Static } from '@sinclair/typebox';
import type { ExperimentsResponseSchema } from '../../services/stats/src/http/route-schemas.ts';
import { formatCount, formatTime } from './figures.ts';
import { isRecord } from './stats-api.ts';
import { renderTable, type Paint } from './text-table.ts';

export type ExperimentsList = Static<typeof ExperimentsResponseSchema>;

/** True when `body` has the list's shape (else --url is not the stats API). */
export function isExperimentsList(body: unknown): body is ExperimentsList {
  return isRecord(body) && typeof body['project'] === 'string' && Array.isArray(body['experiments']);
}

export function experimentsLines(body: ExperimentsList, paint: Paint): string[] {
  const n = body.experiments.length;
  if (n === 0) return [`Project ${body.project} has no experiments yet (no exposure received).`];
  const rows = body.experiments.map((e) => [
    e.experiment,
    formatCount(e.units),
    e.variations.map((v) => `${v.variation} ${formatCount(v.units)}`).join(', '),
    formatCount(e.multiple_exposure_units),
    formatTime(e.first_exposure_at),
    formatTime(e.last_exposure_at),
  ]);
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
      ],
      rows,
      paint,
    ),
  ];
}
