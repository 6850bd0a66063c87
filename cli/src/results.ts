import type { ParseArgsOptionsConfig } from 'node:util';
import type { Static } from '@sinclair/typebox';
import type { MetricsCatalogueResponseSchema } from '../../services/stats/src/index.ts';
import { failure } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { closestName } from './closest-name.ts';
import type { Command } from './command.ts';
import { parseCommandLine } from './parse-command-args.ts';
import {
  DEFAULT_CONFIDENCE,
  eventResultsLines,
  metricResultsLines,
  resultsShape,
  type EventResults,
  type MetricResults,
} from './results-table.ts';
import {
  getFromStats,
  isRecord,
  notStatsApi,
  refusal,
  statsApiFrom,
  statsApiOptions,
  statsApiOptionsHelp,
  type ApiAnswer,
  type StatsApi,
} from './stats-api.ts';
import { painter } from './text-table.ts';

const name = 'results';

const options = {
  ...statsApiOptions,
  metric: { type: 'string' },
  dimension: { type: 'string' },
  control: { type: 'string' },
  confidence: { type: 'string' },
  'fixed-horizon': { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

const help = `Usage: liftstream results EXPERIMENT [--metric M] [--dimension D] [--control V] [--confidence C]
                          [--fixed-horizon] [--url URL] [--json]

Shows an experiment's results (GET /v1/experiments/EXPERIMENT/results): its units and sample-ratio
check, then per metric and variation the units, conversions, rate or mean, and against the control the
lift with its interval, the p-value and whether it is significant, in words. Colour on a terminal,
unless NO_COLOR is set.

The intervals and p-values are the sequential (always-valid) ones by default, as on the results page:
they stay valid however often you look. Fixed-horizon figures are valid only when read once, at a
sample size fixed in advance; --fixed-horizon shows those instead (with Holm's adjusted p). A line under
the header says which are shown. --json prints the API's answer as it is, with both.

A CUPED metric (a mean or count with cuped in the catalogue) shows its CUPED-adjusted lift, interval
and p-values (sequential, or fixed-horizon with --fixed-horizon): the same lift estimated with less
variance, using each unit's same metric before its first exposure. A line under its title names CUPED
and the variance reduction; its unadjusted figures are in --json.

Options:
  --metric M          a metric of the project's catalogue (several: a,b), or an event name (its
                      conversion, value and count per unit); default: the experiment's metric set
  --dimension D       one table per value of a declared dimension (catalogue metrics only)
  --control V         the control variation (default: the metric set's, else "control")
  --confidence C      confidence of the intervals and of "significant", in (0, 1) (default: 0.95)
  --fixed-horizon     show the fixed-horizon intervals and p-values instead of the sequential ones
${statsApiOptionsHelp}

With --fixed-horizon and several treatments, "significant" follows the Holm-adjusted p-value (adj. p)
of the catalogue metrics. An event's value and count per unit have fixed-horizon p-values only (the API
has sequential figures for its conversion rate), and say so.`;

export const results: Command = {
  name,
  summary: "show an experiment's results as tables: lift, sequential interval and p-value, SRM (stats API)",
  help,
  run,
};

type Catalogue = Static<typeof MetricsCatalogueResponseSchema>;

async function run(args: string[], io: CliIo): Promise<void> {
  const parsed = parseCommandLine(name, args, options, ['EXPERIMENT']);
  const { values } = parsed;
  const experiment = parsed.positionals[0] as string;
  const api = statsApiFrom(values, io.env ?? {}, name);

  const catalogueAnswer = await getFromStats(api, '/v1/metrics');
  if (!catalogueAnswer.ok) throw refusal(api, catalogueAnswer);
  const catalogue = catalogueAnswer.body;
  if (!isCatalogue(catalogue)) throw notStatsApi(api, 'answered GET /v1/metrics without a metric catalogue');

  const query = resultsQuery(experiment, values, catalogue);
  const answer = await getFromStats(api, `/v1/experiments/${encodeURIComponent(experiment)}/results`, query);
  if (!answer.ok)
    throw refusal(api, answer, await refusalHint(api, answer, experiment, query['metric'], catalogue));
  const shape = resultsShape(answer.body);
  if (shape === undefined) throw notStatsApi(api, 'answered without results');
  if (values.json) return io.out(answer.text);

  const paint = painter(io.color);
  const figures = values['fixed-horizon'] === true ? 'fixed' : 'sequential';
  const lines =
    shape === 'event'
      ? eventResultsLines(
          answer.body as EventResults,
          paint,
          values.confidence === undefined ? DEFAULT_CONFIDENCE : Number(values.confidence),
          figures,
        )
      : metricResultsLines(answer.body as MetricResults, paint, figures);
  io.out(lines.join('\n'));
}

/**
 * The results request's parameters: `--metric` naming catalogue metrics becomes `metrics=`, anything
 * else `metric=` (an event name); without it, the experiment's metric set, which it must have.
 */
export function resultsQuery(
  experiment: string,
  values: { metric?: string; dimension?: string; control?: string; confidence?: string },
  catalogue: { project: string; metrics: readonly { id: string }[]; experiments: object },
): Record<string, string | undefined> {
  const ids = catalogue.metrics.map((m) => m.id);
  const passed = { dimension: values.dimension, control: values.control, confidence: values.confidence };
  if (values.metric !== undefined) {
    const named = values.metric.split(',');
    const inCatalogue = named.length > 1 || ids.includes(values.metric);
    return { ...passed, ...(inCatalogue ? { metrics: values.metric } : { metric: values.metric }) };
  }
  if (Object.hasOwn(catalogue.experiments, experiment)) return passed;
  const guess = closestName(experiment, Object.keys(catalogue.experiments));
  throw failure(
    `experiment "${experiment}" has no metric set in project "${catalogue.project}"` +
      (guess ? ` (did you mean "${guess}"?)` : '') +
      '; pass --metric with an event name (--metric purchase)' +
      (ids.length === 0 ? '' : ` or catalogue metrics (${ids.slice(0, 10).join(', ')})`),
  );
}

/** What to add to the API's refusal: a close name for an unknown experiment or metric. */
async function refusalHint(
  api: StatsApi,
  answer: Extract<ApiAnswer, { ok: false }>,
  experiment: string,
  metric: string | undefined,
  catalogue: Catalogue,
): Promise<string | undefined> {
  if (answer.code === 'unknown_experiment') {
    const list = await getFromStats(api, '/v1/experiments').catch(() => undefined);
    const names =
      list?.ok && isRecord(list.body) && Array.isArray(list.body['experiments'])
        ? list.body['experiments'].map((e: unknown) => (isRecord(e) ? String(e['experiment']) : ''))
        : [];
    const guess = closestName(experiment, names);
    return guess ? `did you mean "${guess}"? See liftstream experiments` : 'see liftstream experiments';
  }
  if (answer.code === 'unknown_metric' && metric !== undefined) {
    const known = [...new Set(catalogue.metrics.flatMap((m) => (m.event ? [m.id, m.event] : [m.id])))];
    const guess = closestName(metric, known);
    return guess ? `did you mean "${guess}"?` : undefined;
  }
  return undefined;
}

function isCatalogue(body: unknown): body is Catalogue {
  return (
    isRecord(body) &&
    typeof body['project'] === 'string' &&
    Array.isArray(body['metrics']) &&
    isRecord(body['experiments'])
  );
}
