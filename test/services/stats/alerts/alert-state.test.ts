import { describe, expect, it } from 'vitest';
import type {
  AlertObservation,
  ExperimentEvaluation,
} from '../../../../services/stats/src/alerts/alert-conditions.ts';
import { OpenAlerts, transitionsOf } from '../../../../services/stats/src/alerts/alert-state.ts';

const srm = (holds: boolean, p: number): AlertObservation => ({
  kind: 'srm',
  metric: null,
  holds,
  details: { p_value: p, threshold: 0.001, observed: { a: 1 }, expected: { a: 1 } },
});
const guardrail = (metric: string, holds: boolean): AlertObservation => ({
  kind: 'guardrail',
  metric,
  holds,
  details: { direction: 'decrease', control: 'control', variations: [] },
});
const evaluation = (
  observations: AlertObservation[],
  checked: ExperimentEvaluation['checked'] = { srm: true, guardrail: true },
): ExperimentEvaluation => ({ project: 'shop', experiment: 'checkout', checked, observations });

/** Runs evaluations through the state machine, as the alerting does: decide, then record. */
function run(evaluations: ExperimentEvaluation[]) {
  const open = new OpenAlerts();
  let n = 0;
  return evaluations.map((e, i) => {
    const transitions = transitionsOf(open.of('shop', 'checkout'), e, 1_000 * (i + 1), () => `id-${++n}`);
    open.apply(transitions);
    return transitions.map((t) => `${t.state} ${t.kind}${t.metric === null ? '' : `:${t.metric}`} ${t.id}`);
  });
}

describe('alert state machine', () => {
  it('raises once when the condition starts to hold, however many evaluations confirm it', () => {
    expect(
      run([evaluation([srm(false, 0.3)]), evaluation([srm(true, 1e-5)]), evaluation([srm(true, 1e-9)])]),
      'one raise',
    ).toEqual([[], ['raised srm id-1'], []]);
  });

  it('clears the open alert when the condition stops holding, with the same id', () => {
    expect(
      run([evaluation([srm(true, 1e-5)]), evaluation([srm(false, 0.2)]), evaluation([srm(false, 0.4)])]),
    ).toEqual([['raised srm id-1'], ['cleared srm id-1'], []]);
  });

  it('raises a new alert, with a new id, when the condition holds again after clearing', () => {
    expect(
      run([evaluation([srm(true, 1e-5)]), evaluation([srm(false, 0.2)]), evaluation([srm(true, 1e-6)])]),
    ).toEqual([['raised srm id-1'], ['cleared srm id-1'], ['raised srm id-2']]);
  });

  it('keeps one alert per (experiment, kind, metric): two guardrails are two alerts', () => {
    expect(
      run([
        evaluation([srm(false, 0.5), guardrail('errors', true), guardrail('latency', false)]),
        evaluation([srm(false, 0.5), guardrail('errors', true), guardrail('latency', true)]),
        evaluation([srm(false, 0.5), guardrail('errors', false), guardrail('latency', true)]),
      ]),
    ).toEqual([
      ['raised guardrail:errors id-1'],
      ['raised guardrail:latency id-2'],
      ['cleared guardrail:errors id-1'],
    ]);
  });

  it('leaves an open alert of a kind the evaluation could not check as it is', () => {
    expect(
      run([
        evaluation([srm(true, 1e-5), guardrail('errors', true)]),
        evaluation([guardrail('errors', true)], { srm: false, guardrail: true }),
        evaluation([srm(true, 1e-5)], { srm: true, guardrail: false }),
      ]),
      'neither is cleared nor raised again',
    ).toEqual([['raised srm id-1', 'raised guardrail:errors id-2'], [], []]);
  });

  it('clears a guardrail alert whose metric is no longer watched, without figures', () => {
    const open = new OpenAlerts([
      { id: 'old', project: 'shop', experiment: 'checkout', kind: 'guardrail', metric: 'gone', raisedAt: 5 },
    ]);
    const [t] = transitionsOf(open.of('shop', 'checkout'), evaluation([srm(false, 0.5)]), 9, () => 'new');
    expect(t, 'the clear keeps the raise time and carries no details').toMatchObject({
      id: 'old',
      state: 'cleared',
      at: 9,
      raisedAt: 5,
      details: null,
    });
  });

  it("keeps experiments apart: an open alert of one is not another's", () => {
    const open = new OpenAlerts([
      { id: 'a', project: 'shop', experiment: 'other', kind: 'srm', metric: null, raisedAt: 1 },
    ]);
    expect(open.of('shop', 'checkout'), 'nothing open in checkout').toEqual([]);
    expect(open.of('blog', 'other'), 'nor in another project').toEqual([]);
    expect(open.all().map((a) => a.id)).toEqual(['a']);
  });
});
