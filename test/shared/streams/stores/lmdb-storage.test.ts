import { describe, expect, it } from 'vitest';
import { lmdbStorage } from '../../../../shared/streams/stores/lmdb-storage.ts';
import { LmdbDirectory } from '../../../../shared/storage/lmdb-directory.ts';
import { tempDir } from '../../../helpers/temp-dirs.ts';

const tempParent = (): string => tempDir('liftstream-lmdb-test-');

describe('processor task state in LMDB', () => {
  it('lists keys page by page while keys are deleted, each remaining key once', () => {
    const directory = LmdbDirectory.open(tempParent(), {
      setting: 'STATE_DIR',
      what: 'processor state store',
    });
    const storage = lmdbStorage(directory, 'units-0');
    const all = Array.from({ length: 2_500 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    storage.write(all.map((key) => ({ key, value: 'v' })));
    const seen: string[] = [];
    for (const key of storage.keys()) {
      seen.push(key);
      // At the end of the first page: delete the key just read and the next one.
      if (seen.length === 1_000)
        storage.write([
          { key, value: null },
          { key: all[1_000]!, value: null },
        ]);
    }
    expect(seen.length).toBe(2_499);
    expect(new Set(seen).size, 'no key twice').toBe(2_499);
    expect(seen).not.toContain(all[1_000]);
    directory.close();
  });

  it('after a failed write every call throws the same STATE_STORAGE error', () => {
    const directory = LmdbDirectory.open(tempParent(), {
      setting: 'STATE_DIR',
      what: 'processor state store',
    });
    const storage = lmdbStorage(directory, 'units-0');
    storage.write([{ key: 'p/a', value: 'v' }]);
    // LMDB refuses keys over ~2 kB: a real failed write, all or nothing.
    const failed = (): void =>
      storage.write([
        { key: 'p/b', value: 'v' },
        { key: 'k'.repeat(4_000), value: 'v' },
      ]);
    expect(failed).toThrow(/processor state store: writing committed state units-0 failed/);
    let again: unknown;
    try {
      storage.get('p/a');
    } catch (err) {
      again = err;
    }
    expect(again, 'reads refuse too: the storage may be behind the changelog').toMatchObject({
      code: 'STATE_STORAGE',
    });
    expect(() => storage.restore('p/c', 'v')).not.toThrow();
    expect(() => storage.flush()).toThrow(/STATE_STORAGE|writing committed state/);
    directory.close();
  });
});
