import type { UnitContent } from './attribution/unit-state.ts';
import type { UnitEvent } from './unit-event.ts';

/** The address of a unit: its project and canonical id. */
export interface UnitRef {
  project: string;
  unit: string;
}

/**
 * Messages on the repartition topic, from the identity stage (or a merged unit) to the unit
 * stage. Each carries its destination (`project`, `unit`): route it with `unitKey(message)`.
 */
export type UnitMessage = EventMessage | MergeMessage | MergeInMessage;

/** An exposure or track event for a unit. */
export interface EventMessage extends UnitRef {
  type: 'event';
  event: UnitEvent;
  /** Units this message already passed through, oldest first (see MergeInMessage.via). */
  via: string[];
}

/** "Unit `unit` merges into unit `into`" (same project): sent to `unit` by its alias. */
export interface MergeMessage extends UnitRef {
  type: 'merge';
  into: string;
}

/** The events of a merged unit, handed to the unit it merged into. */
export interface MergeInMessage extends UnitRef {
  type: 'merge-in';
  content: UnitContent;
  /**
   * Units this message already passed through, oldest first: the merged unit, then any merged
   * units that forwarded it. A merged unit never forwards a message back to one of these, which
   * is what stops an alias cycle (a→b and b→a) from looping forever.
   */
  via: string[];
}

/** The repartition-topic (and output-topic) key of a unit: `<project>/<unit>`. */
export function unitKey(ref: UnitRef): string {
  return `${ref.project}/${ref.unit}`;
}
