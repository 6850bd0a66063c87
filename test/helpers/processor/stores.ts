import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import {
  MemoryStorage,
  type CommittedStorage,
} from '../../../shared/streams/stores/committed-storage.ts';
import { lmdbStorage } from '../../../shared/streams/stores/lmdb-storage.ts';
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';
import {
  TransactionalStore,
  type StoreCodec,
} from '../../../shared/streams/stores/transactional-store.ts';

export type StorageKind = 'memory' | 'disk';
export const STORAGE_KINDS: readonly StorageKind[] = ['memory', 'disk'];

let directory: LmdbDirectory | null = null;
let parent: string | null = null;
let counter = 0;

// At module level, so the hook belongs to the importing test file (not to the test that opened it).
afterAll(() => {
  directory?.close();
  if (parent !== null) fs.rmSync(parent, { recursive: true, force: true });
  directory = null;
  parent = null;
});

/**
 * A fresh committed storage of `kind`. The disk ones share one LMDB environment per test file, in a
 * temporary directory removed after the file's tests.
 */
export function storageOf(kind: StorageKind): CommittedStorage {
  if (kind === 'memory') return new MemoryStorage();
  if (directory === null) {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'liftstream-store-test-'));
    directory = LmdbDirectory.open(parent, { setting: 'STATE_DIR', what: 'processor state store' });
  }
  counter += 1;
  return lmdbStorage(directory, `test-${counter}`);
}

/** A TransactionalStore over a fresh storage of `kind` (memory by default). */
export function storeOf<V extends object>(
  codec: StoreCodec<V>,
  kind: StorageKind = 'memory',
  cacheKeys = 1_000,
): TransactionalStore<V> {
  return new TransactionalStore(codec, storageOf(kind), cacheKeys);
}
