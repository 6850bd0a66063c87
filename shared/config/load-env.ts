import { z } from 'zod';
import { LiftstreamError } from '../errors.ts';

/**
 * Validates environment variables against a zod object schema, failing with every bad variable named.
 * Services call this once at start-up with `process.env` (tests pass their own object).
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
): z.infer<S> {
  // Empty strings mean "unset" so `FOO= node ...` falls back to the documented default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new LiftstreamError('CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`);
}

/** Comma-separated host:port list, e.g. `127.0.0.1:9092,10.0.0.2:9092`. */
export const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'))
      .min(1, 'expected at least one host:port'),
  );

export const port = z.coerce.number().int().min(1).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().nonnegative();
export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
export const boolFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
