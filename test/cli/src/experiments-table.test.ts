import { describe, expect, it } from 'vitest';
import { experimentsLines, isExperimentsList } from '../../../cli/src/experiments-table.ts';
import { plain } from '../../../cli/src/text-table.ts';
import { experimentsAnswer } from '../../helpers/stats-answers.ts';

describe('experiments table', () => {
  it('one row per experiment: units, units per variation, multiple exposures, first and newest exposure', () => {
    expect(experimentsLines(experimentsAnswer, plain)).toEqual([
      'Project demo: 1 experiment',
      '  experiment  units  variations (units)      multiple exposures  first exposure        newest unit',
      '  checkout        4  control 2, treatment 2                   0  2026-12-05 17:28:28Z  2026-12-05 17:28:29Z',
    ]);
  });

  it('says when the project has none yet, and recognises the list only by its shape', () => {
    expect(experimentsLines({ project: 'demo', experiments: [] }, plain)).toEqual([
      'Project demo has no experiments yet (no exposure received).',
    ]);
    expect(isExperimentsList(experimentsAnswer)).toBe(true);
    expect(isExperimentsList({ error: { code: 'x' } })).toBe(false);
  });
});
