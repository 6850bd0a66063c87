/**
 * JSON paths for `field` in rejections and warnings: 'properties.plan' for identifier-like keys,
 * 'properties["a.b"]' (a JSON string literal) for any other key, so every path is unambiguous.
 */

const IDENTIFIER_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Path of `key` inside the object at `parent` ('' for the event itself). */
export function childPath(parent: string, key: string): string {
  if (IDENTIFIER_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Short, bounded rendering of a producer's value for messages (never echo 4 KB back). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64 ? `${JSON.stringify(value.slice(0, 61))}...` : JSON.stringify(value);
  }
  return String(value);
}

/** JSON type name of a value as a producer would say it: 'array' and 'null' are not 'object'. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
