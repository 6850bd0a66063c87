import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  cupedSentence,
  eventResultsLines,
  figuresSentence,
  hasSequential,
  metricResultsLines,
  metricTitle,
  resultsShape,
  srmLine,
  wrapWords,
  type EventResults,
  type MetricResults,
} from '../../../cli/src/results-table.ts';
import { ansi, plain } from '../../../cli/src/text-table.ts';
import { eventResultsAnswer, metricResultsAnswer } from '../../helpers/stats-answers.ts';

// Typed through JSON, as the CLI receives them: the tests need not restate every field of the schema.
const eventResults = JSON.parse(JSON.stringify(eventResultsAnswer)) as EventResults;
const metricResults = JSON.parse(JSON.stringify(metricResultsAnswer)) as MetricResults;

/** The cells of the table row that starts with `variation`, split on runs of 2+ blanks. */
function row(lines: string[], variation: string, after = 0): string[] {
  const line = lines.slice(after).find((l) => l.trimStart().startsWith(`${variation} `));
  if (line === undefined) throw new Error(`no row for ${variation} in\n${lines.join('\n')}`);
  return line.trim().split(/\s{2,}/);
}

describe('results tables', () => {
  it('tells the two answers apart, and refuses anything else', () => {
    expect(resultsShape(eventResultsAnswer)).toBe('event');
    expect(resultsShape(metricResultsAnswer)).toBe('metrics');
    expect(resultsShape({ experiments: [] })).toBeUndefined();
    expect(resultsShape('<html>')).toBeUndefined();
  });

  it("an event's answer: per variation units, conversions, rate, lift, interval, p-value and words", () => {
    const lines = eventResultsLines(eventResults, plain);
    expect(lines[0]).toBe(
      'Experiment checkout · event purchase · control "control" · 95% confidence · computed 2026-12-05 17:28:31Z',
    );
    expect(row(lines, 'control')).toEqual(['control', '2', '1', '50.00%', '—', '—', '—', 'control']);
    expect(row(lines, 'treatment')).toEqual([
      'treatment',
      '2',
      '1',
      '50.00%',
      '+0.0%',
      '[-196.0%, +196.0%]',
      '1.0000',
      'not significant',
    ]);
    const perUnit = lines.findIndex((l) => l.includes('value per unit'));
    expect(row(lines, 'treatment', perUnit), 'value and count per unit').toEqual([
      'treatment',
      '25',
      '+150.0%',
      '0.6575',
      'not significant',
      '1',
      '0.7117',
    ]);
  });

  it('an event at another confidence names it in the header and the interval column', () => {
    const lines = eventResultsLines(eventResults, plain, 0.9);
    expect(lines[0]).toContain('90% confidence');
    expect(lines.join('\n')).toContain('90% interval');
  });

  it('catalogue metrics: a table per metric, Holm-adjusted p with two treatments, direction-aware words', () => {
    const lines = metricResultsLines(metricResults, plain);
    const errors = lines.findIndex((l) => l.startsWith('errors:'));
    expect(lines[errors]).toBe(
      "errors: count of error, capped at 10, guardrail, lower is better (Welch's t-test)",
    );
    expect(row(lines, 'a')).toEqual([
      'a',
      '1,010',
      '140',
      '13.86%',
      '+38.6%',
      '[+10.0%, +67.0%]',
      '0.0080',
      '0.0160',
      'significant increase (better)',
    ]);
    expect(row(lines, 'a', errors).at(-1), 'more errors is worse').toBe('significant increase (worse)');
    expect(row(lines, 'b', errors).at(-1)).toBe('significant decrease (better)');
    expect(row(lines, 'control', errors)[3], 'a mean, not a rate').toBe('1.235');
    expect(lines[1]).toBe(
      'Units: control 1,000, a 1,010, b 900 (exposed to several variations, left out: 3)',
    );
  });

  it('with a dimension: the experiment, then each value with its units, SRM and tables', () => {
    const { metrics, ...rest } = metricResults;
    const byCountry = {
      ...rest,
      dimension: 'country',
      values: [
        { value: 'de', multiple_exposure_units: 0, units: rest.units, srm: rest.srm, metrics: metrics ?? [] },
        { value: '(none)', multiple_exposure_units: 0, units: rest.units, srm: rest.srm, metrics: [] },
      ],
    } as MetricResults;
    const lines = metricResultsLines(byCountry, plain);
    expect(lines).toContain('country = de');
    expect(lines).toContain('country = (none)');
    expect(lines.filter((l) => l.includes('purchased: conversion of purchase'))).toHaveLength(1);
  });

  it('says in capitals, and in red on a terminal, when units did not split as configured', () => {
    const broken = srmLine(metricResults.srm, ansi);
    expect(broken.startsWith('\u001b[31m'), 'red').toBe(true);
    expect(stripVTControlCharacters(broken)).toMatch(
      /^SAMPLE RATIO MISMATCH \(p = 0\.0002; observed control 1,000/,
    );
    expect(srmLine(eventResults.srm, plain)).toBe(
      'Sample ratio: as expected (p = 1.0000; observed control 2, treatment 2; expected control 2, treatment 2)',
    );
    expect(srmLine({ p_value: null, observed: { control: 3 }, expected: { control: 3 } }, plain)).toMatch(
      /not tested/,
    );
  });

  it('titles a ratio by its operands and a window by its hours', () => {
    const [purchased] = metricResults.metrics ?? [];
    if (purchased === undefined) throw new Error('fixture has no metric');
    expect(metricTitle(purchased)).toBe(
      'purchased: conversion of purchase, within 72 h of exposure, goal (two-proportion z-test)',
    );
    expect(
      metricTitle({
        ...purchased,
        metric: 'aov',
        type: 'ratio',
        numerator: 'revenue',
        denominator: 'orders',
        window: null,
        test: 'gbstats_relative_t',
      }),
    ).toBe('aov: ratio revenue / orders, goal (relative t-test)');
  });

  it('writes no escape code without colour', () => {
    const text = [
      ...eventResultsLines(eventResults, plain),
      ...metricResultsLines(metricResults, plain),
    ].join('\n');
    expect(text).toBe(stripVTControlCharacters(text));
  });
});

/** The fixtures as a server with always-valid inference sends them: a `sequential` block per treatment. */
function withSequential<T extends { variation: string }>(
  variations: T[],
  control: string,
  blocks: Record<string, { lift_ci: [number, number] | null; p_value: number | null }>,
): T[] {
  return variations.map((v) => ({
    ...v,
    sequential: v.variation === control ? null : { ...blocks[v.variation], tuning_parameter: 5000 },
  }));
}

const sequentialEvent = {
  ...eventResults,
  variations: withSequential(eventResults.variations, 'control', {
    treatment: { lift_ci: [-3.5, 3.5], p_value: 0.98 },
  }),
} as EventResults;

const sequentialMetrics = {
  ...metricResults,
  metrics: (metricResults.metrics ?? []).map((m) => ({
    ...m,
    variations: withSequential(m.variations, 'control', {
      a: { lift_ci: [0.02, 0.81], p_value: 0.031 },
      b: { lift_ci: [-0.45, 0.3], p_value: 0.9 },
    }),
  })),
} as MetricResults;

describe('results tables: sequential figures by default, fixed-horizon on request', () => {
  it('knows an answer with sequential blocks from one without', () => {
    expect(hasSequential(sequentialEvent)).toBe(true);
    expect(hasSequential(sequentialMetrics)).toBe(true);
    expect(hasSequential(eventResults)).toBe(false);
    expect(hasSequential(metricResults)).toBe(false);
  });

  it("shows each treatment's sequential interval and p-value, and judges by that p-value", () => {
    const lines = metricResultsLines(sequentialMetrics, plain);
    const sentence = figuresSentence('sequential', 'sequential', 0.95);
    expect(sentence).toMatch(/^Showing sequential \(always-valid\) 95% intervals and p-values/);
    const wrapped = wrapWords(sentence);
    expect(lines.slice(3, 3 + wrapped.length), 'under the header').toEqual(wrapped);
    expect(wrapped.join(' ')).toBe(sentence);
    expect(wrapped.every((l) => l.length <= 100)).toBe(true);
    expect(row(lines, 'a'), 'no adj. p column: Holm is for the fixed-horizon p').toEqual([
      'a',
      '1,010',
      '140',
      '13.86%',
      '+38.6%',
      '[+2.0%, +81.0%]',
      '0.0310',
      'significant increase (better)',
    ]);
    expect(row(lines, 'b')).toEqual([
      'b',
      '900',
      '80',
      '8.89%',
      '-11.1%',
      '[-45.0%, +30.0%]',
      '0.9000',
      'not significant',
    ]);
    expect(lines.find((l) => l.startsWith('purchased:'))).toBe(
      'purchased: conversion of purchase, within 72 h of exposure, goal (sequential test; fixed-horizon: two-proportion z-test)',
    );
  });

  it('shows the fixed-horizon figures, Holm-adjusted p included, when asked, and says so', () => {
    const lines = metricResultsLines(sequentialMetrics, plain, 'fixed');
    const text = lines.join(' ');
    expect(lines[3]).toMatch(/^Showing fixed-horizon 95% intervals and p-values: valid only when read once/);
    expect(text).toContain('the sequential figures (the default) do not have that problem');
    expect(row(lines, 'a')).toEqual([
      'a',
      '1,010',
      '140',
      '13.86%',
      '+38.6%',
      '[+10.0%, +67.0%]',
      '0.0080',
      '0.0160',
      'significant increase (better)',
    ]);
  });

  it("an event: the conversion rate's sequential figures; value and count per unit labelled fixed-horizon", () => {
    const lines = eventResultsLines(sequentialEvent, plain);
    expect(lines[3]).toMatch(/^Showing sequential \(always-valid\) 95% intervals/);
    expect(row(lines, 'treatment')).toEqual([
      'treatment',
      '2',
      '1',
      '50.00%',
      '+0.0%',
      '[-350.0%, +350.0%]',
      '0.9800',
      'not significant',
    ]);
    const perUnit = lines.findIndex((l) => l.includes('value per unit'));
    expect(lines[perUnit]).toContain('fixed-horizon only');
    expect(lines[perUnit + 1]).toContain('fixed p');
    const fixed = eventResultsLines(sequentialEvent, plain, 0.95, 'fixed');
    expect(row(fixed, 'treatment').slice(5, 7)).toEqual(['[-196.0%, +196.0%]', '1.0000']);
  });

  it('falls back to fixed-horizon figures, saying why, when the API sends no sequential block', () => {
    const lines = metricResultsLines(metricResults, plain);
    expect(lines.join(' ')).toMatch(/does not send sequential \(always-valid\) figures/);
    expect(row(lines, 'a').slice(5, 7)).toEqual(['[+10.0%, +67.0%]', '0.0080']);
  });
});

/**
 * The errors guardrail of the fixtures as a CUPED count metric: each treatment's `cuped` block differs
 * from its unadjusted figures, so a table shows which it read.
 */
const cupedFigures = (over: Record<string, unknown>) => ({
  estimate: null,
  variance: null,
  theta: null,
  control_estimate: null,
  lift: null,
  lift_ci: null,
  p_value: null,
  adjusted_p_value: null,
  sequential: null,
  variance_reduction: null,
  ...over,
});
const cupedErrors = (() => {
  const errors = sequentialMetrics.metrics?.find((m) => m.metric === 'errors');
  if (errors === undefined) throw new Error('fixture has no errors metric');
  const cuped: Record<string, ReturnType<typeof cupedFigures>> = {
    control: cupedFigures({}),
    a: cupedFigures({
      estimate: 1.5,
      control_estimate: 1.25,
      theta: 0.4,
      lift: 0.2025,
      lift_ci: [0.05, 0.35],
      p_value: 0.0061,
      adjusted_p_value: 0.0122,
      sequential: { lift_ci: [0.01, 0.4], p_value: 0.042, tuning_parameter: 5000 },
      variance_reduction: 0.234,
    }),
    b: cupedFigures({
      estimate: 1.2,
      control_estimate: 1.24,
      theta: 0.3,
      lift: -0.0324,
      lift_ci: [-0.1, 0.04],
      p_value: 0.31,
      adjusted_p_value: 0.31,
      sequential: { lift_ci: [-0.2, 0.14], p_value: 0.77, tuning_parameter: 5000 },
      variance_reduction: -0.012,
    }),
  };
  return {
    ...errors,
    metric: 'errors_cuped',
    cuped: { days: 0.1, note: 'y_u sums the metric over the unit’s events before its first exposure.' },
    variations: errors.variations.map((v) => ({ ...v, cuped: cuped[v.variation] ?? null })),
  } as NonNullable<MetricResults['metrics']>[number];
})();
const cupedMetrics = { ...sequentialMetrics, metrics: [cupedErrors] } as MetricResults;

describe('results tables: CUPED metrics show their adjusted figures', () => {
  it('names CUPED, the covariate and each treatment’s variance reduction under the title', () => {
    const lines = metricResultsLines(cupedMetrics, plain);
    const title = lines.findIndex((l) => l.startsWith('errors_cuped:'));
    expect(lines[title]).toBe(
      'errors_cuped: count of error, capped at 10, guardrail, lower is better (sequential test; fixed-horizon: CUPED-adjusted relative t-test)',
    );
    const sentence = cupedSentence(cupedErrors, 'control');
    expect(sentence).toBe(
      "CUPED-adjusted lift, interval and p-values, using each unit's error events in the 0.1 days before its " +
        'first exposure: variance reduced by 23.4% (a), -1.2% (b) (unadjusted figures: --json).',
    );
    const wrapped = wrapWords(sentence);
    expect(lines.slice(title + 1, title + 1 + wrapped.length), 'right under the title').toEqual(wrapped);
  });

  it('shows the adjusted sequential lift, interval and p-value by default, and judges by that p-value', () => {
    const lines = metricResultsLines(cupedMetrics, plain);
    expect(row(lines, 'a')).toEqual([
      'a',
      '1,010',
      '140',
      '1.6',
      '+20.3%',
      '[+1.0%, +40.0%]',
      '0.0420',
      'significant increase (worse)',
    ]);
    expect(row(lines, 'b').slice(4)).toEqual(['-3.2%', '[-20.0%, +14.0%]', '0.7700', 'not significant']);
    expect(row(lines, 'control').slice(3), 'the unadjusted mean; no comparison').toEqual([
      '1.235',
      '—',
      '—',
      '—',
      'control',
    ]);
  });

  it('shows the adjusted fixed-horizon figures and Holm-adjusted p with --fixed-horizon', () => {
    const lines = metricResultsLines(cupedMetrics, plain, 'fixed');
    expect(lines.find((l) => l.startsWith('errors_cuped:'))).toMatch(/\(CUPED-adjusted relative t-test\)$/);
    expect(row(lines, 'a').slice(4)).toEqual([
      '+20.3%',
      '[+5.0%, +35.0%]',
      '0.0061',
      '0.0122',
      'significant increase (worse)',
    ]);
    expect(row(lines, 'b').slice(4)).toEqual([
      '-3.2%',
      '[-10.0%, +4.0%]',
      '0.3100',
      '0.3100',
      'not significant',
    ]);
  });

  it('says so when the API has no variance reduction yet, and nothing for metrics without CUPED', () => {
    const unknown = {
      ...cupedErrors,
      variations: cupedErrors.variations.slice(0, 2).map((v) => ({ ...v, cuped: cupedFigures({}) })),
    } as typeof cupedErrors;
    expect(cupedSentence(unknown, 'control')).toContain('variance reduced by — (unadjusted');
    expect(
      cupedSentence({ ...cupedErrors, variations: cupedErrors.variations.slice(0, 1) }, 'control'),
    ).toContain('variance not known yet');
    const [purchased] = sequentialMetrics.metrics ?? [];
    if (purchased === undefined) throw new Error('fixture has no metric');
    expect(cupedSentence(purchased, 'control')).toBe('');
    expect(metricResultsLines(sequentialMetrics, plain).join('\n')).not.toContain('CUPED');
  });
});

describe('wrapWords', () => {
  it('fills lines up to the width and never splits a word', () => {
    expect(wrapWords('aa bb cc dd', 5)).toEqual(['aa bb', 'cc dd']);
    expect(wrapWords('a verylongword b', 4)).toEqual(['a', 'verylongword', 'b']);
    expect(wrapWords('', 10)).toEqual([]);
  });
});
