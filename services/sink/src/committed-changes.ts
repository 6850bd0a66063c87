/** What an insert tells SinkDeps.onCommitted: the experiments its rows touch, with their freshness inputs. */
import { parseDateTime64 } from './sink-rows.ts';
import type { AttributedRow, ExposureRow, SinkRow, SinkTable } from './sink-rows.ts';
import type { CommittedChange } from './sink-types.ts';

/** The distinct (project, experiment) pairs of `rows`, in order of first appearance. */
export function committedChanges(table: SinkTable, rows: readonly SinkRow[]): CommittedChange[] {
  const seen = new Map<string, CommittedChange>();
  for (const row of rows) {
    const key = `${row.project}\u0000${row.experiment}`;
    let change = seen.get(key);
    if (change === undefined) {
      change = {
        table,
        project: row.project,
        experiment: row.experiment,
        newestAsserted: null,
        newestRetracted: null,
      };
      seen.set(key, change);
    }
    const at = countedTimeOf(table, row);
    if (at === null) continue;
    if (row.sign === 1) change.newestAsserted = Math.max(change.newestAsserted ?? at, at);
    else change.newestRetracted = Math.max(change.newestRetracted ?? at, at);
  }
  return [...seen.values()];
}

/** The time a counted row stands for (unix ms): null for rows that are never counted. */
function countedTimeOf(table: SinkTable, row: SinkRow): number | null {
  if (table === 'covariates') return null;
  if (table === 'exposures') {
    const exposure = row as ExposureRow;
    return exposure.multiple_exposure ? null : parseDateTime64(exposure.first_exposure_at);
  }
  return parseDateTime64((row as AttributedRow).timestamp);
}
