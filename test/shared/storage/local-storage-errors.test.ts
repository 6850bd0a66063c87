import { ClickHouseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { localStorageFailure } from '../../../shared/storage/local-storage-errors.ts';

const fsError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('localStorageFailure', () => {
  it.each([
    [
      'ClickHouse out of space (as chDB raised it on a full tmpfs)',
      new ClickHouseError({
        message: 'Cannot reserve 2.21 MiB, not enough space. ',
        code: '243',
        type: 'NOT_ENOUGH_SPACE',
      }),
      /^disk full \(NOT_ENOUGH_SPACE\)/,
    ],
    [
      'ClickHouse quoting strerror of a write',
      new ClickHouseError({
        message: 'Cannot write to file /d/store/x.bin, errno: 28, strerror: No space left on device',
        code: '75',
        type: 'CANNOT_WRITE_TO_FILE_DESCRIPTOR',
      }),
      /^disk full: /,
    ],
    [
      'ClickHouse unable to open a file it does not own',
      new ClickHouseError({
        message: 'Cannot open file /d/store/tmp_insert/data.bin, errno: 13, strerror: Permission denied',
        code: '76',
        type: 'CANNOT_OPEN_FILE',
      }),
      /^permission denied: /,
    ],
    [
      'Node mkdir in a directory of another user',
      fsError('EACCES', "EACCES: permission denied, mkdir '/d'"),
      /^permission denied/,
    ],
    [
      'Node write on a read-only mount',
      fsError('EROFS', "EROFS: read-only file system, open '/d/x'"),
      /^file system is read-only/,
    ],
    ['Node write on a full disk', fsError('ENOSPC', 'ENOSPC: no space left on device, write'), /^disk full/],
    [
      'a disk error wrapped as the cause of another',
      new Error('insert failed', { cause: fsError('EDQUOT', 'EDQUOT: disk quota exceeded') }),
      /^disk full/,
    ],
  ])('%s', (_name, err, expected) => {
    expect(localStorageFailure(err)).toMatch(expected);
  });

  it.each([
    ['a server that does not answer', fsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8123')],
    ['a timeout', new Error('Timeout error.')],
    [
      'a bad statement',
      new ClickHouseError({
        message: 'Syntax error: failed at position 1',
        code: '62',
        type: 'SYNTAX_ERROR',
      }),
    ],
    [
      'a memory limit (transient, not the disk)',
      new ClickHouseError({ message: 'Memory limit exceeded', code: '241', type: 'MEMORY_LIMIT_EXCEEDED' }),
    ],
    ['not an error at all', 'No space left on device'],
  ])('is null for %s', (_name, err) => {
    expect(localStorageFailure(err)).toBeNull();
  });
});
