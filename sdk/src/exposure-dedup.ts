/**
 * Exposures sent once per client instance, like the SDKs liftstream is modelled on: rendering the
 * same variation to the same unit ten times sends one exposure. Only the first exposure of a unit
 * counts anyway (docs/semantics.md), so the rest would be traffic for nothing.
 *
 * The key is unit × experiment × variation, and decision_id too: in `decision` attribution a track
 * event counts only for exposures that carry its decision_id, so an exposure with a new decision is
 * not a repeat. Bounded: beyond `maxKeys` the oldest keys are forgotten (a long-running server sees
 * many units); a forgotten key costs one more exposure, which the pipeline counts once.
 */
import type { ExposureInput } from './event-types.ts';

export class ExposureDedup {
  private readonly seen = new Set<string>();

  constructor(private readonly maxKeys: number) {}

  /** True the first time this exposure is seen (and remembers it), false for a repeat. */
  firstTime(exposure: ExposureInput): boolean {
    // \u0001 cannot appear in a valid id (control characters are rejected), so keys cannot collide.
    const key = [
      exposure.user_id ?? '',
      exposure.anonymous_id ?? '',
      exposure.experiment,
      exposure.variation,
      exposure.decision_id ?? '',
    ].join('\u0001');
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.maxKeys) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}
