import { randomBytes } from 'node:crypto';
import { sha256Hex, type KeyRole } from './project-catalog.ts';

/**
 * Prefix by role: a key's role is visible at a glance, and secret scanners can match the prefixes
 * (lsw_ and lsr_ are secrets; lsc_ client keys are publishable, meant to be shipped in web pages).
 */
export const KEY_PREFIX_BY_ROLE: Readonly<Record<KeyRole, string>> = {
  write: 'lsw_',
  read: 'lsr_',
  client: 'lsc_',
};

/** Random bytes per key: 144 bits, 24 base64url characters after the prefix. */
const keyBytes = 18;

export interface NewApiKey {
  /** The key in clear: shown to its owner once, never stored by liftstream. */
  key: string;
  /** The project catalog's entry for it: only the digest is kept. */
  entry: { role: KeyRole; sha256: string };
}

/** A new random API key of `role` and its catalog entry. */
export function generateApiKey(role: KeyRole): NewApiKey {
  const key = `${KEY_PREFIX_BY_ROLE[role]}${randomBytes(keyBytes).toString('base64url')}`;
  return { key, entry: { role, sha256: sha256Hex(key) } };
}
