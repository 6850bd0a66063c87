import { deserializeUnitState, serializeUnitState } from '../domain/attribution/unit-state-codec.ts';
import { isEmptyContent, type UnitState } from '../domain/attribution/unit-state.ts';
import { deserializeIdentityState, serializeIdentityState } from '../domain/identity/identity-state-codec.ts';
import type { IdentityState } from '../domain/identity/identity-state.ts';
import type { StoreCodec } from '../../../../shared/streams/stores/transactional-store.ts';

/**
 * The identity store (key `<project>/<raw id>`): an identity with no alias and no remembered
 * message_id is the same as one never seen, so it becomes a tombstone and compaction drops it.
 */
export const identityStoreCodec: StoreCodec<IdentityState> = {
  name: 'identity',
  encode: serializeIdentityState,
  decode: deserializeIdentityState,
  isEmpty: (state) => state.aliasTo === null && isEmptyRecord(state.seen),
};

/**
 * The unit store (key `<project>/<unit>`): a live unit with no content asserts no rows in any
 * mode, so it is the same as a unit never seen. Merged units are never empty (they forward).
 */
export const unitStoreCodec: StoreCodec<UnitState> = {
  name: 'units',
  encode: serializeUnitState,
  decode: deserializeUnitState,
  isEmpty: (state) => state.kind === 'live' && isEmptyContent(state.content),
};

function isEmptyRecord(record: Record<string, number>): boolean {
  for (const _ in record) return false;
  return true;
}
