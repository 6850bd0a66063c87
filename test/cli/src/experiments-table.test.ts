import { describe, expect, it } from 'vitest';
import { experimentsLines, isExperimentsList } from '../../../cli/src/experiments-table.ts';
import type { ExperimentsList } from '../../../cli/src/experiments-table.ts';
import { ansi, plain } from '../../../cli/src/text-table.ts';
import { experimentsAnswer } from '../../helpers/stats-answers.ts';

describe('experiments table', () => {
  it('one row per experiment: units, units per variation, multiple exposures, exposures, newest event, alerts', () => {
    expect(experimentsLines(experimentsAnswer, plain)).toEqual([
      'Project demo: 1 experiment',
      '  experiment  units  variations (units)      multiple exposures  first exposure        newest unit           newest event          open alerts',
      '  checkout        4  control 2, treatment 2                   0  2026-12-05 17:28:28Z  2026-12-05 17:28:29Z  2026-12-05 17:28:29Z  0',
    ]);
  });

  it('counts open alerts with their kinds, in red on a terminal', () => {
    const [checkout] = experimentsAnswer.experiments;
    const alerting = {
      project: 'demo',
      experiments: [{ ...checkout, open_alerts: 2, open_alerts_by_kind: { srm: 1, guardrail: 1 } }],
    } as ExperimentsList;
    expect(experimentsLines(alerting, plain)[2]).toMatch(/ {2}2 \(srm 1, guardrail 1\)$/);
    expect(experimentsLines(alerting, ansi)[2]).toContain('\u001b[31m2 (srm 1, guardrail 1)');
  });

  it('shows "—" for the newest event and alerts of a stats service from before them', () => {
    const older = Object.fromEntries(
      Object.entries(experimentsAnswer.experiments[0] ?? {}).filter(
        ([field]) => !['last_event_at', 'open_alerts', 'open_alerts_by_kind'].includes(field),
      ),
    );
    const lines = experimentsLines({ project: 'demo', experiments: [older] } as ExperimentsList, plain);
    expect(lines[2]).toMatch(/2026-12-05 17:28:29Z {2}— +—$/);
  });

  it('says when the project has none yet, and recognises the list only by its shape', () => {
    expect(experimentsLines({ project: 'demo', experiments: [] }, plain)).toEqual([
      'Project demo has no experiments yet (no exposure received).',
    ]);
    expect(isExperimentsList(experimentsAnswer)).toBe(true);
    expect(isExperimentsList({ error: { code: 'x' } })).toBe(false);
  });
});
