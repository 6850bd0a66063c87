/**
 * The analysis part of a project's settings, config-as-code: the metric catalogue, each experiment's metric
 * set and control, and the dimension names results can be broken down by (docs/semantics.md, "Second
 * edition"). Parsed with the rest of the project catalog at start-up, so a typo stops the service with a
 * message naming the project, the metric and the field instead of answering wrong numbers later.
 *
 *   "dimensions": ["country", "platform"],
 *   "metrics": [
 *     { "id": "purchased", "type": "conversion", "event": "purchase", "window": { "hours": 72 } },
 *     { "id": "revenue", "type": "mean", "event": "purchase", "cap": { "percentile": 0.99 } },
 *     { "id": "orders", "type": "count", "event": "purchase" },
 *     { "id": "order_value", "type": "ratio", "numerator": "revenue", "denominator": "orders" },
 *     { "id": "errors", "type": "count", "event": "error", "guardrail": true, "direction": "decrease" }
 *   ],
 *   "experiments": {
 *     "checkout_v2": { "metrics": ["purchased", "revenue"], "guardrails": ["errors"], "control": "control",
 *                      "sequential_tuning_parameter": 20000 }
 *   }
 *
 * Decisions beyond the semantics page, and why:
 * - a `conversion` metric takes no cap (c_u is never capped: a cap there would silently do nothing);
 * - a `ratio` takes neither window nor cap: its numerator and denominator are metrics and carry their own,
 *   so there is one place each rule is stated; a ratio of a ratio, or of a conversion, is refused;
 * - when the project declares event definitions, a metric's event must be one of them (a typo there would
 *   otherwise be a metric that is zero forever); without definitions any event name is accepted;
 * - sizes are bounded (metrics per project, metrics per set, dimensions, window length) so that nothing in
 *   the catalogue can make one request cost without bound: see MAX_* below and services/stats/README.md.
 */
import { z } from 'zod';
import { rule } from './zod-rules.ts';

/** Metric ids and event names share the event-name rule. */
export const METRIC_ID_PATTERN = /^[a-z][a-z0-9_]{0,127}$/;
export const METRIC_ID_RULE = 'a lowercase letter, then up to 127 lowercase letters, digits or _';
/** Dimension names: property or context keys, kept to a portable subset. */
export const DIMENSION_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const DIMENSION_NAME_RULE = 'a lowercase letter, then up to 63 lowercase letters, digits or _';

export const METRIC_TYPES = ['conversion', 'mean', 'count', 'ratio'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];
export const DIRECTIONS = ['increase', 'decrease'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const MAX_METRICS_PER_PROJECT = 500;
export const MAX_METRICS_PER_SET = 20;
export const MAX_DIMENSIONS = 10;
/** A year: longer than any backfill or retention, so a longer window could only be a mistake. */
export const MAX_WINDOW_HOURS = 24 * 366;
const TUNING_PARAMETER_RULE = 'a finite number > 0 (units, e.g. 5000)';

const windowSchema = z.strictObject(
  {
    delay_hours: z
      .number({ error: rule(`a number of hours from 0 to ${MAX_WINDOW_HOURS}`) })
      .min(0, { error: rule(`a number of hours from 0 to ${MAX_WINDOW_HOURS}`) })
      .max(MAX_WINDOW_HOURS, { error: rule(`a number of hours from 0 to ${MAX_WINDOW_HOURS}`) })
      .default(0),
    hours: z
      .number({ error: rule(`a number of hours > 0 and at most ${MAX_WINDOW_HOURS}`) })
      .gt(0, { error: rule(`a number of hours > 0 and at most ${MAX_WINDOW_HOURS}`) })
      .max(MAX_WINDOW_HOURS, { error: rule(`a number of hours > 0 and at most ${MAX_WINDOW_HOURS}`) }),
  },
  { error: rule('an object { "delay_hours"?: <hours>, "hours": <hours> }') },
);

const capSchema = z.union(
  [
    z.strictObject({
      absolute: z
        .number({ error: rule('a finite number > 0') })
        .gt(0, { error: rule('a finite number > 0') })
        .finite({ error: rule('a finite number > 0') }),
    }),
    z.strictObject({
      percentile: z
        .number({ error: rule('a number strictly between 0 and 1, e.g. 0.99') })
        .gt(0, { error: rule('a number strictly between 0 and 1, e.g. 0.99') })
        .lt(1, { error: rule('a number strictly between 0 and 1, e.g. 0.99') }),
    }),
  ],
  { error: rule('{ "absolute": <number > 0> } or { "percentile": <number in (0, 1)> }') },
);

/** The covariate lookback when `cuped` gives no `days` (docs/semantics.md, "Variance reduction"). */
export const DEFAULT_CUPED_DAYS = 14;
const CUPED_DAYS_RULE = `a number of days > 0 and at most ${MAX_WINDOW_HOURS / 24} (and within the state retention)`;

const cupedSchema = z.strictObject(
  {
    days: z
      .number({ error: rule(CUPED_DAYS_RULE) })
      .gt(0, { error: rule(CUPED_DAYS_RULE) })
      .max(MAX_WINDOW_HOURS / 24, { error: rule(CUPED_DAYS_RULE) })
      .default(DEFAULT_CUPED_DAYS),
  },
  { error: rule('an object { "days"?: <days before first exposure, default 14> }') },
);

const metricSchema = z.strictObject(
  {
    id: z.string({ error: rule(METRIC_ID_RULE) }).regex(METRIC_ID_PATTERN, { error: rule(METRIC_ID_RULE) }),
    type: z.enum(METRIC_TYPES, { error: rule('"conversion", "mean", "count" or "ratio"') }),
    description: z
      .string({ error: rule('a string') })
      .max(1000)
      .optional(),
    event: z
      .string({ error: rule(`an event name: ${METRIC_ID_RULE}`) })
      .regex(METRIC_ID_PATTERN, { error: rule(`an event name: ${METRIC_ID_RULE}`) })
      .optional(),
    numerator: z.string({ error: rule('the id of a mean or count metric') }).optional(),
    denominator: z.string({ error: rule('the id of a mean or count metric') }).optional(),
    window: windowSchema.optional(),
    cap: capSchema.optional(),
    /** CUPED: the covariate is this metric over the unit's events in [first_exposure − days, first_exposure). */
    cuped: cupedSchema.optional(),
    guardrail: z.boolean({ error: rule('true or false') }).default(false),
    direction: z.enum(DIRECTIONS, { error: rule('"increase" or "decrease"') }).default('increase'),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; a metric has id, type, event, numerator, ` +
          'denominator, window, cap, cuped, guardrail, direction, description'
        : rule('an object { "id": ..., "type": ..., ... }')(issue),
  },
);

const metricSetSchema = z.strictObject(
  {
    metrics: z
      .array(z.string({ error: rule('a metric id') }))
      .max(MAX_METRICS_PER_SET)
      .default([]),
    guardrails: z
      .array(z.string({ error: rule('a metric id') }))
      .max(MAX_METRICS_PER_SET)
      .default([]),
    control: z
      .string({ error: rule('a variation name') })
      .min(1)
      .max(256)
      .optional(),
    /**
     * gbstats' `sequential_tuning_parameter` of this experiment's always-valid (`sequential`) figures: about
     * the total units at which its confidence sequence is tightest; 5000 when absent (docs/semantics.md,
     * "Monitoring").
     */
    sequential_tuning_parameter: z
      .number({ error: rule(TUNING_PARAMETER_RULE) })
      .gt(0, { error: rule(TUNING_PARAMETER_RULE) })
      .finite({ error: rule(TUNING_PARAMETER_RULE) })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; an experiment has metrics, guardrails, control, sequential_tuning_parameter`
        : rule('an object { "metrics"?: [...], "guardrails"?: [...], "control"?: ... }')(issue),
  },
);

/** The fields the project schema adds for analysis (spread into its z.object). */
export const analysisSettingsSchema = {
  dimensions: z
    .array(
      z
        .string({ error: rule(DIMENSION_NAME_RULE) })
        .regex(DIMENSION_NAME_PATTERN, { error: rule(DIMENSION_NAME_RULE) }),
      { error: rule('a list of dimension names') },
    )
    .max(MAX_DIMENSIONS, { error: `at most ${MAX_DIMENSIONS} dimensions` })
    .default([]),
  metrics: z
    .array(metricSchema, { error: rule('a list of metrics') })
    .max(MAX_METRICS_PER_PROJECT, { error: `at most ${MAX_METRICS_PER_PROJECT} metrics` })
    .default([]),
  experiments: z
    .record(z.string().min(1).max(256), metricSetSchema, {
      error: rule('an object { "<experiment>": { "metrics": [...], ... } }'),
    })
    .default({}),
};

export type MetricConfig = z.infer<typeof metricSchema>;
export type MetricSetConfig = z.infer<typeof metricSetSchema>;

/** Where an issue is, relative to the project, and what is wrong: fed to zod's ctx.addIssue. */
export interface ReferenceIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The checks one field cannot make alone: duplicate ids, which fields each type needs, ratio operands,
 * events against the project's definitions, metric sets naming defined metrics, duplicate dimensions.
 */
export function checkAnalysisReferences(project: {
  metrics: readonly MetricConfig[];
  experiments: Readonly<Record<string, MetricSetConfig>>;
  dimensions: readonly string[];
  eventDefinitions?: unknown;
}): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const byId = new Map<string, MetricConfig>();
  const defined = definedEventNames(project.eventDefinitions);
  project.metrics.forEach((metric, i) => {
    const at = (...rest: string[]) => ['metrics', i, ...rest];
    if (byId.has(metric.id))
      issues.push({ path: at('id'), message: `metric "${metric.id}" is defined twice` });
    byId.set(metric.id, metric);
    if (metric.type === 'ratio') {
      if (metric.event !== undefined)
        issues.push({ path: at('event'), message: 'a ratio has no event: its numerator and denominator do' });
      if (metric.window !== undefined)
        issues.push({
          path: at('window'),
          message: 'a ratio takes no window: set it on the numerator and denominator metrics',
        });
      if (metric.cap !== undefined)
        issues.push({
          path: at('cap'),
          message: 'a ratio takes no cap: set it on the numerator and denominator metrics',
        });
      if (metric.cuped !== undefined)
        issues.push({
          path: at('cuped'),
          message: 'CUPED applies to mean and count metrics; this metric is a ratio',
        });
      if (metric.numerator === undefined)
        issues.push({ path: at('numerator'), message: 'missing; a ratio needs a numerator metric id' });
      if (metric.denominator === undefined)
        issues.push({ path: at('denominator'), message: 'missing; a ratio needs a denominator metric id' });
      return;
    }
    if (metric.numerator !== undefined || metric.denominator !== undefined) {
      const field = metric.numerator !== undefined ? 'numerator' : 'denominator';
      issues.push({
        path: at(field),
        message: `only a ratio has a ${field}; this metric is a ${metric.type}`,
      });
    }
    if (metric.event === undefined) {
      issues.push({
        path: at('event'),
        message: `missing; a ${metric.type} metric needs the event it counts`,
      });
    } else if (defined !== null && !defined.has(metric.event)) {
      issues.push({
        path: at('event'),
        message: `event "${metric.event}" is not defined in the project's eventDefinitions`,
      });
    }
    if (metric.cuped !== undefined && metric.type !== 'mean' && metric.type !== 'count') {
      issues.push({
        path: at('cuped'),
        message: `CUPED applies to mean and count metrics; this metric is a ${metric.type}`,
      });
    }
    if (metric.type === 'conversion' && metric.cap !== undefined) {
      issues.push({
        path: at('cap'),
        message: 'a conversion metric is never capped (c_u is 0 or 1); remove cap',
      });
    }
  });
  project.metrics.forEach((metric, i) => {
    if (metric.type !== 'ratio') return;
    for (const field of ['numerator', 'denominator'] as const) {
      const id = metric[field];
      if (id === undefined) continue;
      const operand = byId.get(id);
      if (operand === undefined) {
        issues.push({ path: ['metrics', i, field], message: `no metric "${id}" in this project` });
      } else if (operand.type !== 'mean' && operand.type !== 'count') {
        issues.push({
          path: ['metrics', i, field],
          message: `metric "${id}" is a ${operand.type}; a ratio's ${field} must be a mean or count metric`,
        });
      }
    }
  });
  for (const [experiment, set] of Object.entries(project.experiments)) {
    for (const list of ['metrics', 'guardrails'] as const) {
      set[list].forEach((id, j) => {
        if (!byId.has(id)) {
          issues.push({
            path: ['experiments', experiment, list, j],
            message: `no metric "${id}" in this project`,
          });
        }
      });
    }
  }
  const seen = new Set<string>();
  project.dimensions.forEach((name, i) => {
    if (seen.has(name))
      issues.push({ path: ['dimensions', i], message: `dimension "${name}" is listed twice` });
    seen.add(name);
  });
  return issues;
}

/** The project's defined event names (eventDefinitions.events), or null when it defines none. */
export function definedEventNames(eventDefinitions: unknown): Set<string> | null {
  if (typeof eventDefinitions !== 'object' || eventDefinitions === null) return null;
  const events = (eventDefinitions as { events?: unknown }).events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) return null;
  return new Set(Object.keys(events));
}

/**
 * Per event name, the longest CUPED lookback (ms) among the project's metrics on that event: what the processor
 * emits covariate rows for (schemas/covariate-event.avsc). Empty when no metric has `cuped`.
 */
export function cupedLookbackByEvent(metrics: readonly MetricConfig[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const metric of metrics) {
    if (metric.cuped === undefined || metric.event === undefined) continue;
    const ms = Math.round(metric.cuped.days * 86_400_000);
    out[metric.event] = Math.max(out[metric.event] ?? 0, ms);
  }
  return out;
}

/**
 * The metrics whose `cuped.days` exceed the state retention (pre-exposure events older than retention are
 * evicted before they could be counted): refused at start by the services that know the retention.
 */
export function cupedBeyondRetention(
  metrics: readonly MetricConfig[],
  retentionDays: number,
): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  metrics.forEach((metric, i) => {
    if (metric.cuped !== undefined && metric.cuped.days > retentionDays)
      issues.push({
        path: ['metrics', i, 'cuped', 'days'],
        message:
          `${metric.cuped.days} days exceed the state retention (RETENTION_DAYS=${retentionDays}): ` +
          'pre-exposure events older than that are evicted before they could feed the covariate',
      });
  });
  return issues;
}
