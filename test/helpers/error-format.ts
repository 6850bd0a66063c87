import { expect } from 'vitest';

/** Asserts the one error format: exactly { error: { code, message } }, nothing else (no stack). */
export function expectErrorBody(json: Record<string, unknown>, code: string): void {
  expect(Object.keys(json), `error body ${JSON.stringify(json)}`).toEqual(['error']);
  const error = json['error'] as Record<string, unknown>;
  expect(Object.keys(error).sort()).toEqual(['code', 'message']);
  expect(error['code']).toBe(code);
  expect(String(error['message']).length, 'a message that says what is wrong').toBeGreaterThan(10);
  expect(String(error['message'])).not.toMatch(/\n\s+at /);
}
