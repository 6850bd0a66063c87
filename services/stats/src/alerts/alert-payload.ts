/**
 * The JSON body of a webhook delivery (services/stats/README.md, "Alerts"): one transition of one alert.
 * Receivers pair a `cleared` with its `raised` by `id`, and may see a delivery twice (a retry after an
 * answer that was lost): (id, state) identifies it.
 */
import type { AlertDetails } from './alert-conditions.ts';
import type { AlertTransition } from './alert-state.ts';

/** The transition's identity as is; times as ISO-8601 UTC text (`at`: this transition, `raised_at`: the raise). */
export type AlertPayload = Pick<
  AlertTransition,
  'id' | 'project' | 'experiment' | 'kind' | 'metric' | 'state'
> & {
  at: string;
  raised_at: string;
  details: AlertDetails | null;
};

export function toAlertPayload(t: AlertTransition): AlertPayload {
  return {
    id: t.id,
    project: t.project,
    experiment: t.experiment,
    kind: t.kind,
    metric: t.metric,
    state: t.state,
    at: new Date(t.at).toISOString(),
    raised_at: new Date(t.raisedAt).toISOString(),
    details: t.details,
  };
}
