/**
 * Errors that mean a local disk (under embedded ClickHouse, or the processor's state cache) cannot take
 * writes: full, read-only, or not ours. Retrying does not heal them and hides them from the operator, so a
 * process holding local state stops cleanly instead (nothing is committed past what the disk stored; a
 * restart resumes from there).
 */
import { errorChain } from '../errors.ts';

/** ClickHouse error types raised when a write hits the disk and fails. */
const CLICKHOUSE_DISK_TYPES = new Set([
  'NOT_ENOUGH_SPACE',
  'CANNOT_WRITE_TO_FILE_DESCRIPTOR',
  'CANNOT_OPEN_FILE',
  'CANNOT_FSYNC',
  'CANNOT_TRUNCATE_FILE',
  'CANNOT_CREATE_DIRECTORY',
  'CANNOT_RENAME',
]);

/** errno names (Node) and their strerror texts (ClickHouse quotes strerror in its messages). */
const DISK_ERRNO: ReadonlyArray<readonly [code: string, text: RegExp]> = [
  ['ENOSPC', /No space left on device/i],
  ['EDQUOT', /Disk quota exceeded/i],
  ['EROFS', /Read-only file system/i],
  ['EACCES', /Permission denied/i],
  ['EPERM', /Operation not permitted/i],
];

/**
 * Why `err` is a local-disk failure, in words an operator can act on, or null when it is something else
 * (a timeout, a bad statement, a server that is down), which callers treat as they did before.
 */
export function localStorageFailure(err: unknown): string | null {
  for (const e of errorChain(err)) {
    const code = (e as { code?: unknown }).code;
    const type = (e as { type?: unknown }).type;
    for (const [name, text] of DISK_ERRNO) {
      if (code === name || text.test(e.message)) return `${describe(name)}: ${e.message}`;
    }
    if (typeof type === 'string' && CLICKHOUSE_DISK_TYPES.has(type)) {
      return `${type === 'NOT_ENOUGH_SPACE' ? describe('ENOSPC') : 'cannot write to disk'} (${type}): ${e.message}`;
    }
  }
  return null;
}

function describe(errno: string): string {
  switch (errno) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'disk full';
    case 'EROFS':
      return 'file system is read-only';
    default:
      return 'permission denied';
  }
}
