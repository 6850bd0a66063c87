/**
 * Fixtures for the gateway validation tests: a fixed receive time, a context built from it, and
 * minimal valid events of each type to vary one field at a time.
 */
import {
  EMPTY_EVENT_DEFINITIONS,
  parseEventDefinitions,
} from '../../services/gateway/src/validation/event-definitions.ts';
import type { EventDefinitions } from '../../services/gateway/src/validation/event-definitions.ts';
import type { EventKind } from '../../services/gateway/src/validation/normalized-event.ts';
import { createValidationContext } from '../../services/gateway/src/validation/validate-event.ts';
import type { ValidationContext } from '../../services/gateway/src/validation/validate-event.ts';

/** The gateway's receive time in every test: 2026-05-21T10:30:00Z. */
export const RECEIVED_AT = Date.parse('2026-05-21T10:30:00Z');
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const GOOGLEBOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** A validation context at RECEIVED_AT with default windows. */
export function testContext(
  options: { definitions?: EventDefinitions; kindHint?: EventKind } = {},
): ValidationContext {
  return createValidationContext({
    project: 'acme',
    receivedAt: RECEIVED_AT,
    definitions: options.definitions ?? EMPTY_EVENT_DEFINITIONS,
    ...(options.kindHint === undefined ? {} : { kindHint: options.kindHint }),
  });
}

/** Parses definitions that the test expects to be valid; fails loudly otherwise. */
export function definitionsOf(json: unknown): EventDefinitions {
  const parsed = parseEventDefinitions(json);
  if (!parsed.ok) throw new Error(`test definitions are invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.definitions;
}

/** A minimal valid track event with `fields` merged over it. */
export function track(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'track', event: 'purchase', user_id: 'u1', ...fields };
}

/** A minimal valid exposure with `fields` merged over it. */
export function exposure(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'exposure', experiment: 'checkout_color', variation: 'treatment', user_id: 'u1', ...fields };
}

/** A minimal valid alias with `fields` merged over it. */
export function alias(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'alias', anonymous_id: 'anon-1', user_id: 'u1', ...fields };
}

/** `fields` without `key`, to test a missing field (as opposed to null). */
export function without(fields: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...fields };
  delete copy[key];
  return copy;
}
