/**
 * Route schemas (TypeBox → JSON Schema): the OpenAPI document is generated from them, fastify validates
 * parameters with them (a failure becomes a 400 naming the parameter, see app.ts) and serialises answers
 * with them, so an answer never carries a field the schema does not list.
 */
import { Type } from '@sinclair/typebox';
import type { TSchema } from '@sinclair/typebox';
import { STATS_ERRORS } from './stats-errors.ts';

/** OpenAPI 3.0's nullable (3.0 has no `type: [.., "null"]`); fast-json-stringify honours it too. */
function Nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<T['static'] | null>({ ...schema, nullable: true });
}

const NullableNumber = Nullable(Type.Number());
const Name = Type.String({ minLength: 1, maxLength: 256 });
const CountsByVariation = Type.Object(
  {},
  { additionalProperties: Type.Number(), description: 'Keyed by variation' },
);

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(STATS_ERRORS).map((code) => Type.Literal(code))),
      message: Type.String(),
    }),
  },
  { title: 'Error' },
);

export const ExperimentParamsSchema = Type.Object({ experiment: Name });

export const ResultsQuerySchema = Type.Object({
  metric: Type.Optional(
    Type.String({
      pattern: '^[a-z][a-z0-9_]{0,127}$',
      description:
        'One event name (a track event), e.g. purchase: its conversion, value and count figures in the "Results" shape. ' +
        'Without it, the answer is the "Metric results" shape for `metrics` or the experiment\'s metric set.',
    }),
  ),
  metrics: Type.Optional(
    Type.String({
      maxLength: 2600,
      description:
        "Comma-separated catalogue metric ids (GET /v1/metrics), at most 20; default: the experiment's goal metrics and guardrails",
    }),
  ),
  dimension: Type.Optional(
    Type.String({
      pattern: '^[a-z][a-z0-9_]{0,63}$',
      description:
        'A declared dimension: one block per value (the 20 values with most units; the rest as "(other)", none as "(none)")',
    }),
  ),
  control: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'Control variation; default: the experiment set\'s control (listed at 0 units until its first unit is stored), else the one named "control"',
    }),
  ),
  confidence: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Confidence of lift_ci and of the sequential lift_ci; default 0.95',
    }),
  ),
  from: Type.Optional(
    Type.String({
      description:
        'Only events at or after this event time: unix ms or ISO-8601 (UTC when no offset). Reads raw rows (slower).',
    }),
  ),
  to: Type.Optional(
    Type.String({
      description:
        'Only events before this event time, and only units first exposed before it: unix ms or ISO-8601. Reads raw rows (slower).',
    }),
  ),
});

/** Freshness, in the experiments listing and in both results answers. */
const LastEventAt = Nullable(
  Type.String({
    format: 'date-time',
    description:
      "The experiment's newest counted event: the latest of its live analysed units' first exposures and of its " +
      "live attributed events' times (event time as sent, so a producer's clock running ahead can put it after " +
      'computed_at; whatever from/to). Null when nothing is counted.',
  }),
);

export const ExperimentsResponseSchema = Type.Object(
  {
    project: Type.String(),
    experiments: Type.Array(
      Type.Object({
        experiment: Type.String(),
        variations: Type.Array(
          Type.Object({ variation: Type.String(), units: Type.Integer({ description: 'Analysed units' }) }),
        ),
        units: Type.Integer({ description: 'Analysed units over all variations' }),
        multiple_exposure_units: Type.Integer({
          description: 'Units exposed to 2+ variations, not analysed',
        }),
        first_exposure_at: Nullable(
          Type.String({ format: 'date-time', description: 'Earliest first exposure' }),
        ),
        last_exposure_at: Nullable(
          Type.String({ format: 'date-time', description: 'Latest first exposure' }),
        ),
        last_event_at: LastEventAt,
        open_alerts: Type.Integer({
          minimum: 0,
          description:
            'Open alerts of the experiment (GET /v1/alerts?state=open&experiment=...): raised, not cleared',
        }),
        open_alerts_by_kind: Type.Object(
          { srm: Type.Optional(Type.Integer()), guardrail: Type.Optional(Type.Integer()) },
          { description: 'The open alerts per kind; a kind without any is absent' },
        ),
      }),
    ),
  },
  { title: 'Experiments' },
);

const FIXED_HORIZON =
  'Fixed-horizon: valid only when read once, at a sample size fixed in advance; see `sequential` for the always-valid figure.';

/** A nullable interval whose description says it is fixed-horizon. */
function fixedHorizonInterval(what: string) {
  return Nullable(
    Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: `${what}. ${FIXED_HORIZON}` }),
  );
}

/** A nullable figure whose description says it is fixed-horizon. */
function fixedHorizonNumber(what: string) {
  return Nullable(Type.Number({ description: `${what}. ${FIXED_HORIZON}` }));
}

const SequentialSchema = Nullable(
  Type.Object(
    {
      lift_ci: Nullable(
        Type.Array(Type.Number(), {
          minItems: 2,
          maxItems: 2,
          description:
            "Confidence sequence of the relative lift at the request's confidence; null when the test is undefined",
        }),
      ),
      p_value: Nullable(
        Type.Number({ description: 'Always-valid p-value of lift = 0; null when the test is undefined' }),
      ),
      tuning_parameter: Type.Number({
        description: "gbstats' sequential_tuning_parameter used: the experiment's, else 5000",
      }),
    },
    {
      description:
        "Always valid however often it is read: gbstats 0.8.0's SequentialTwoSidedTTest of the relative lift. " +
        'Null on the control.',
    },
  ),
);

const INFERENCE = Type.String({
  description: 'Which comparison fields are fixed-horizon, and that `sequential` is always valid',
});

const VariationResultSchema = Type.Object({
  variation: Type.String(),
  units: Type.Integer(),
  conversions: Type.Integer(),
  conversion_rate: NullableNumber,
  value_per_unit: NullableNumber,
  value_variance: NullableNumber,
  count_per_unit: NullableNumber,
  count_variance: NullableNumber,
  mean_value: NullableNumber,
  lift: NullableNumber,
  lift_ci: fixedHorizonInterval('Delta-method interval of the conversion-rate lift'),
  p_value: fixedHorizonNumber('Pooled two-proportion z-test'),
  adjusted_p_value: fixedHorizonNumber('Holm over the treatments'),
  value_lift: NullableNumber,
  value_p_value: fixedHorizonNumber("Welch's t of value per unit"),
  count_p_value: fixedHorizonNumber("Welch's t of count per unit"),
  sequential: SequentialSchema,
});

export const ResultsResponseSchema = Type.Object(
  {
    experiment: Type.String(),
    metric: Type.String(),
    control: Type.String(),
    computed_at: Type.String({ format: 'date-time' }),
    multiple_exposure_units: Type.Integer(),
    last_event_at: LastEventAt,
    srm: Type.Object({ p_value: NullableNumber, observed: CountsByVariation, expected: CountsByVariation }),
    inference: INFERENCE,
    variations: Type.Array(VariationResultSchema, {
      description: 'The control first; its comparison fields are null',
    }),
  },
  { title: 'Results' },
);

export const HealthResponseSchema = Type.Object({ status: Type.Literal('ok') });

export const ReadyResponseSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({
    clickhouse: Type.Object({ status: Type.String(), detail: Type.Optional(Type.String()) }),
    sink: Type.Object({
      status: Type.String({ description: 'disabled, or the sink state (starting, running, ...)' }),
      ready: Type.Optional(Type.Boolean({ description: 'Group joined and stored offsets read' })),
      lag: Type.Optional(Type.Integer({ description: 'Records in Kafka not yet in ClickHouse' })),
      backoff: Type.Optional(Type.String({ description: 'The failing insert being retried' })),
    }),
  }),
});

const MetricDefinitionSchema = Type.Object({
  id: Type.String(),
  type: Type.Union([
    Type.Literal('conversion'),
    Type.Literal('mean'),
    Type.Literal('count'),
    Type.Literal('ratio'),
  ]),
  description: Type.Optional(Type.String()),
  event: Type.Optional(Type.String()),
  numerator: Type.Optional(Type.String()),
  denominator: Type.Optional(Type.String()),
  window: Type.Optional(Type.Object({ delay_hours: Type.Number(), hours: Type.Number() })),
  cap: Type.Optional(
    Type.Object({ absolute: Type.Optional(Type.Number()), percentile: Type.Optional(Type.Number()) }),
  ),
  cuped: Type.Optional(Type.Object({ days: Type.Number() })),
  guardrail: Type.Boolean(),
  direction: Type.Union([Type.Literal('increase'), Type.Literal('decrease')]),
});

export const MetricsCatalogueResponseSchema = Type.Object(
  {
    project: Type.String(),
    dimensions: Type.Array(Type.String()),
    metrics: Type.Array(MetricDefinitionSchema),
    experiments: Type.Object(
      {},
      {
        additionalProperties: Type.Object({
          metrics: Type.Array(Type.String()),
          guardrails: Type.Array(Type.String()),
          control: Type.Optional(Type.String()),
          sequential_tuning_parameter: Type.Optional(
            Type.Number({ description: "gbstats' sequential_tuning_parameter; 5000 when absent" }),
          ),
        }),
        description: 'Metric sets keyed by experiment',
      },
    ),
  },
  { title: 'Metric catalogue' },
);

const CupedSchema = Nullable(
  Type.Object(
    {
      estimate: Nullable(
        Type.Number({
          description:
            "The arm's adjusted mean, mean(v) − θ·mean(y); on the control only when one treatment makes θ unique",
        }),
      ),
      variance: Nullable(
        Type.Number({ description: 'Its unit-level variance, var(v) + θ²·var(y) − 2θ·cov(v, y)' }),
      ),
      theta: Nullable(
        Type.Number({
          description: 'θ pooled over the treatment and the control; 0 when gbstats falls back',
        }),
      ),
      control_estimate: Nullable(
        Type.Number({
          description: "The control's adjusted mean under this comparison's θ; null on the control",
        }),
      ),
      lift: Nullable(
        Type.Number({
          description:
            "gbstats' point estimate: (estimate − control_estimate) / the control's unadjusted mean",
        }),
      ),
      lift_ci: fixedHorizonInterval("gbstats' relative TwoSidedTTest on the adjusted statistics"),
      p_value: fixedHorizonNumber("gbstats' relative TwoSidedTTest on the adjusted statistics"),
      adjusted_p_value: fixedHorizonNumber("Holm over this metric's treatments' CUPED p-values"),
      sequential: SequentialSchema,
      variance_reduction: Nullable(
        Type.Number({
          description:
            "1 − V_adjusted / V_unadjusted, V the delta-method variance of the relative-lift estimator (gbstats' " +
            'frequentist_variance) with and without the covariate',
        }),
      ),
    },
    {
      description:
        'CUPED (docs/semantics.md, "Variance reduction"): gbstats 0.8.0\'s RegressionAdjustedStatistic, θ pooled over ' +
        'the two arms compared. Null unless the metric is a mean or count with `cuped`; comparison fields null on the control.',
    },
  ),
);

const MetricVariationSchema = Type.Object({
  variation: Type.String(),
  units: Type.Integer(),
  conversions: Type.Integer({ description: 'Units with a counted event (of the numerator, for a ratio)' }),
  sum: Type.Number({ description: 'Σ v_u over the units (Σ N_u for a ratio), capped' }),
  denominator_sum: NullableNumber,
  estimate: Nullable(
    Type.Number({ description: 'conversion rate, mean per unit (mean, count) or Σ N_u / Σ D_u (ratio)' }),
  ),
  variance: NullableNumber,
  lift: NullableNumber,
  lift_ci: fixedHorizonInterval("Interval of the relative lift (see the block's test)"),
  p_value: fixedHorizonNumber("The block's test"),
  adjusted_p_value: fixedHorizonNumber("Holm over this metric's treatments"),
  sequential: SequentialSchema,
  cuped: CupedSchema,
});

const MetricBlockSchema = Type.Object({
  metric: Type.String(),
  type: Type.String(),
  event: Nullable(Type.String()),
  numerator: Nullable(Type.String()),
  denominator: Nullable(Type.String()),
  guardrail: Type.Boolean({
    description: "A guardrail of the metric's definition or of the experiment's set",
  }),
  direction: Type.String(),
  window: Nullable(Type.Object({ delay_hours: Type.Number(), hours: Type.Number() })),
  cap: Nullable(
    Type.Object({ absolute: Type.Optional(Type.Number()), percentile: Type.Optional(Type.Number()) }),
  ),
  cap_value: Nullable(
    Type.Number({ description: 'The cap applied to v_u: absolute, or the percentile found' }),
  ),
  denominator_cap_value: NullableNumber,
  cuped: Nullable(
    Type.Object(
      {
        days: Type.Number({
          description: 'The covariate lookback: events in [first_exposure − days, first_exposure)',
        }),
        note: Type.String({ description: 'What the covariate covers, and what retention leaves out' }),
      },
      {
        description:
          "The metric's CUPED setting; the figures are each variation's `cuped` block. Null without one",
      },
    ),
  ),
  test: Type.String({ description: 'two_proportion_z, welch_t or gbstats_relative_t: what p_value is' }),
  variations: Type.Array(MetricVariationSchema, { description: 'The control first' }),
});

const SrmSchema = Type.Object({
  p_value: NullableNumber,
  observed: CountsByVariation,
  expected: CountsByVariation,
});
const UnitsSchema = Type.Array(Type.Object({ variation: Type.String(), units: Type.Integer() }));

export const MetricResultsResponseSchema = Type.Object(
  {
    project: Type.String(),
    experiment: Type.String(),
    control: Type.String(),
    confidence: Type.Number(),
    computed_at: Type.String({ format: 'date-time' }),
    multiple_exposure_units: Type.Integer(),
    last_event_at: LastEventAt,
    units: UnitsSchema,
    srm: SrmSchema,
    inference: INFERENCE,
    metrics: Type.Optional(Type.Array(MetricBlockSchema, { description: 'Without a dimension' })),
    dimension: Type.Optional(Type.String()),
    values: Type.Optional(
      Type.Array(
        Type.Object({
          value: Type.String(),
          multiple_exposure_units: Type.Integer(),
          units: UnitsSchema,
          srm: SrmSchema,
          metrics: Type.Array(MetricBlockSchema),
        }),
        { description: 'With a dimension: one block per value, most units first, "(other)" last' },
      ),
    ),
  },
  { title: 'Metric results' },
);

export const TimeseriesQuerySchema = Type.Object({
  metric: Type.String({
    pattern: '^[a-z][a-z0-9_]{0,127}$',
    description: 'A catalogue metric id, or an event name (its conversion figures)',
  }),
  interval: Type.Optional(
    Type.Union([Type.Literal('day'), Type.Literal('hour')], { description: 'Boundaries, UTC; default day' }),
  ),
  control: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  confidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
});

export const TimeseriesResponseSchema = Type.Object(
  {
    project: Type.String(),
    experiment: Type.String(),
    metric: Type.String(),
    type: Type.String(),
    interval: Type.String(),
    control: Type.String(),
    confidence: Type.Number(),
    computed_at: Type.String({ format: 'date-time' }),
    inference: INFERENCE,
    points: Type.Array(
      Type.Object({
        as_of: Type.String({
          format: 'date-time',
          description: 'Events and exposures at or before this time',
        }),
        variations: Type.Array(
          Type.Object({
            variation: Type.String(),
            units: Type.Integer(),
            conversions: Type.Integer(),
            conversion_rate: NullableNumber,
            value_per_unit: Nullable(
              Type.Number({
                description:
                  'Mean of x_u (Σ w·value) per unit; null for a conversion metric of the catalogue',
              }),
            ),
            estimate: NullableNumber,
            lift: NullableNumber,
            lift_ci: fixedHorizonInterval('Interval of the relative lift'),
            p_value: fixedHorizonNumber("The metric's test"),
            sequential: SequentialSchema,
          }),
        ),
      }),
    ),
  },
  { title: 'Results over time' },
);
