import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../sdk/src/message-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newMessageId', () => {
  it('makes distinct UUID v7s across many pool refills', () => {
    const ids = Array.from({ length: 5_000 }, () => newMessageId());
    for (const id of ids.slice(0, 300)) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('puts the creation time in the first 48 bits', () => {
    const before = Date.now();
    const id = newMessageId();
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });
});
