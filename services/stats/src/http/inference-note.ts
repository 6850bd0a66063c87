/**
 * The `inference` note of the results answers: which figures are fixed-horizon and which are always valid
 * (docs/semantics.md, "Monitoring: always-valid inference"), so a reader of the JSON alone knows which to
 * trust while an experiment is still running.
 */

/** The note for an answer whose fixed-horizon comparison fields are `fixedHorizon`. */
export function inferenceNote(fixedHorizon: readonly string[]): string {
  const fields =
    fixedHorizon.length <= 1
      ? fixedHorizon.join('')
      : `${fixedHorizon.slice(0, -1).join(', ')} and ${fixedHorizon[fixedHorizon.length - 1] as string}`;
  return (
    `${fields} are fixed-horizon: valid only when read once, at a sample size fixed in advance. ` +
    "sequential is always valid (gbstats' SequentialTwoSidedTTest of the relative lift): its lift_ci and " +
    'p_value hold however often the results are read.'
  );
}
