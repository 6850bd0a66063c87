/**
 * Schemas of GET /v1/alerts (TypeBox → JSON Schema → OpenAPI), and of the alert details it shares with
 * the webhook payload (alerts/alert-payload.ts).
 */
import { Type } from '@sinclair/typebox';
import type { TSchema } from '@sinclair/typebox';
import { MAX_ALERTS_LISTED } from '../storage/alerts-store.ts';

/** OpenAPI 3.0's nullable, as route-schemas.ts spells it. */
function orNull<T extends TSchema>(schema: T) {
  return Type.Unsafe<T['static'] | null>({ ...schema, nullable: true });
}

const Counts = Type.Object({}, { additionalProperties: Type.Number(), description: 'Keyed by variation' });

const SrmDetailsSchema = Type.Object(
  {
    p_value: orNull(Type.Number()),
    threshold: Type.Number({ description: 'The alert holds while p_value is below it (0.001)' }),
    observed: Counts,
    expected: Counts,
  },
  { description: "kind srm: the results answer's `srm` block" },
);

const GuardrailDetailsSchema = Type.Object(
  {
    direction: Type.String({ description: 'increase: higher is better; decrease: lower is better' }),
    control: Type.String(),
    variations: Type.Array(
      Type.Object({
        variation: Type.String(),
        lift: orNull(Type.Number()),
        sequential: orNull(
          Type.Object({
            lift_ci: orNull(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 })),
            p_value: orNull(Type.Number()),
            tuning_parameter: Type.Number(),
          }),
        ),
        breached: Type.Boolean({ description: 'The sequential interval lies wholly on the bad side' }),
      }),
      { description: 'Each treatment' },
    ),
  },
  { description: "kind guardrail: each treatment's lift and sequential block, as in the results answer" },
);

/** The figures that decided a transition; null for a clear of a metric no longer watched. */
export const AlertDetailsSchema = Type.Unsafe({
  // OpenAPI 3.0 has no null type and ajv wants `nullable` beside a `type`: each member is nullable.
  anyOf: [orNull(SrmDetailsSchema), orNull(GuardrailDetailsSchema)],
  description: 'The evaluation that decided the transition; null when a guardrail is no longer watched',
});

export const AlertsQuerySchema = Type.Object({
  state: Type.Optional(
    Type.Union([Type.Literal('open'), Type.Literal('all')], {
      description: 'open (default): alerts not cleared; all: open and past',
    }),
  ),
  experiment: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'Only this experiment' }),
  ),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_ALERTS_LISTED,
      description: `At most this many, newest first; default 100, at most ${MAX_ALERTS_LISTED}`,
    }),
  ),
});

export const AlertsResponseSchema = Type.Object(
  {
    project: Type.String(),
    state: Type.String({ description: 'The listing asked for: open or all' }),
    alerts: Type.Array(
      Type.Object({
        id: Type.String({ description: "The alert's id, as in its webhook deliveries" }),
        experiment: Type.String(),
        kind: Type.Union([Type.Literal('srm'), Type.Literal('guardrail')]),
        metric: orNull(Type.String({ description: 'The guardrail metric; null for srm' })),
        state: Type.Union([Type.Literal('open'), Type.Literal('cleared')]),
        raised_at: Type.String({ format: 'date-time' }),
        cleared_at: orNull(Type.String({ format: 'date-time' })),
        details: AlertDetailsSchema,
        cleared_details: AlertDetailsSchema,
      }),
      { description: 'Newest raised first' },
    ),
  },
  { title: 'Alerts' },
);
