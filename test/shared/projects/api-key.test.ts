import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../shared/projects/api-key.ts';
import { sha256Hex } from '../../../shared/projects/project-catalog.ts';

describe('API key generation', () => {
  it('makes write keys lsw_, read keys lsr_ and client keys lsc_ with 18 random bytes in base64url', () => {
    expect(generateApiKey('write').key).toMatch(/^lsw_[A-Za-z0-9_-]{24}$/);
    expect(generateApiKey('read').key).toMatch(/^lsr_[A-Za-z0-9_-]{24}$/);
    expect(generateApiKey('client').key).toMatch(/^lsc_[A-Za-z0-9_-]{24}$/);
  });

  it('gives the catalog entry of the key: its role and the SHA-256 of the key', () => {
    const { key, entry } = generateApiKey('read');
    expect(entry).toEqual({ role: 'read', sha256: sha256Hex(key) });
  });

  it('never makes the same key twice', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey('write').key));
    expect(keys.size).toBe(1000);
  });
});
