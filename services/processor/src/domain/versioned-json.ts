/** The outcome of reading a stored value: the value, or why it cannot be used. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Serialises a store value as `{"v":<version>,"state":<value>}`. */
export function encodeVersioned(version: number, state: unknown): string {
  return JSON.stringify({ v: version, state });
}

/**
 * How to read a payload written by an older version: returns it in the current version's shape
 * (checked by `isState` afterwards), so that an upgrade reads what the previous build wrote.
 */
export type Upgrade = (state: unknown) => unknown;

/**
 * Reads what `encodeVersioned` wrote. `version` is read as is; an older version listed in
 * `upgrades` is first upgraded to it. Anything else, or a payload that then fails `isState`, is an
 * error naming the store, never a guess: a changelog written by a newer build must stop this
 * build, not be half-read.
 */
export function decodeVersioned<T>(
  store: string,
  version: number,
  json: string,
  isState: (value: unknown) => value is T,
  upgrades: Readonly<Record<number, Upgrade>> = {},
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
  const upgrade = typeof parsed.v === 'number' && parsed.v !== version ? upgrades[parsed.v] : undefined;
  if (parsed.v !== version && upgrade === undefined) {
    const readable = [...Object.keys(upgrades).map(Number), version].sort((a, b) => a - b);
    return {
      ok: false,
      error:
        `${store}: unsupported version ${JSON.stringify(parsed.v)}; this build reads ` +
        (readable.length === 1 ? `version ${version} only` : `versions ${readable.join(', ')}`),
    };
  }
  const state = upgrade === undefined ? parsed.state : upgrade(parsed.state);
  if (!isState(state))
    return { ok: false, error: `${store}: version ${String(parsed.v)} state has an unexpected shape` };
  return { ok: true, value: state };
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
