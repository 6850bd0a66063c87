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
  metric: Type.String({
    pattern: '^[a-z][a-z0-9_]{0,127}$',
    description: 'Metric event name (a track event), e.g. purchase',
  }),
  control: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Control variation; default: the one named "control"',
    }),
  ),
  confidence: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Confidence of lift_ci; default 0.95',
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
      }),
    ),
  },
  { title: 'Experiments' },
);

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
  lift_ci: Nullable(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 })),
  p_value: NullableNumber,
  adjusted_p_value: NullableNumber,
  value_lift: NullableNumber,
  value_p_value: NullableNumber,
  count_p_value: NullableNumber,
});

export const ResultsResponseSchema = Type.Object(
  {
    experiment: Type.String(),
    metric: Type.String(),
    control: Type.String(),
    computed_at: Type.String({ format: 'date-time' }),
    multiple_exposure_units: Type.Integer(),
    srm: Type.Object({ p_value: NullableNumber, observed: CountsByVariation, expected: CountsByVariation }),
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
