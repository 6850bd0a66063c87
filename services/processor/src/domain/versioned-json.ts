/** The outcome of reading a stored value: the value, or why it cannot be used. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Serialises a store value as `{"v":<version>,"state":<value>}`. */
export function encodeVersioned(version: number, state: unknown): string {
  return JSON.stringify({ v: version, state });
}

/**
 * Reads what `encodeVersioned` wrote. Anything but exactly `version` with a payload that passes
 * `isState` is an error naming the store, never a guess: a changelog written by a newer build
 * must stop this build, not be half-read.
 */
export function decodeVersioned<T>(
  store: string,
  version: number,
  json: string,
  isState: (value: unknown) => value is T,
): Decoded<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return { ok: false, error: `${store}: not JSON (${(error as Error).message})` };
  }
  if (!isRecord(parsed) || !('v' in parsed)) {
    return { ok: false, error: `${store}: no version field; expected {"v":${version},"state":...}` };
  }
  if (parsed.v !== version) {
    return {
      ok: false,
      error: `${store}: unsupported version ${JSON.stringify(parsed.v)}; this build reads version ${version} only`,
    };
  }
  if (!isState(parsed.state))
    return { ok: false, error: `${store}: version ${version} state has an unexpected shape` };
  return { ok: true, value: parsed.state };
}

/** A non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or null. */
export function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** A finite number. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
