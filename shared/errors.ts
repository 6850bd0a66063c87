/**
 * The infrastructure error catalogue shared by every service. Bad *data* is never an exception
 * (validators return values); these are for failures of the parts liftstream depends on.
 */
export const INFRA_ERROR_CODES = {
  CONFIG_INVALID: 'a configuration variable is missing or malformed',
  KAFKA_UNAVAILABLE: 'the Kafka cluster did not accept or answer in time',
  REGISTRY_UNAVAILABLE: 'the schema registry did not answer in time',
  REGISTRY_REJECTED: 'the schema registry refused a schema (compatibility or syntax)',
  CLICKHOUSE_UNAVAILABLE: 'ClickHouse did not answer or refused a statement',
  STATE_CORRUPT: 'local or changelog state could not be read back',
  STATE_STORAGE: 'the local state directory could not be written or read (disk full, read-only, permissions)',
} as const;

export type InfraErrorCode = keyof typeof INFRA_ERROR_CODES;

export class LiftstreamError extends Error {
  readonly code: InfraErrorCode;
  /** True when the same call may succeed later (a dependency was down), false for a defect or bad config. */
  readonly retriable: boolean;

  constructor(code: InfraErrorCode, message: string, opts: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'LiftstreamError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

/** True when `err` carries one of `codes` (a LiftstreamError, or anything with the same `code`). */
export function hasInfraCode(err: unknown, ...codes: InfraErrorCode[]): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return codes.some((c) => c === code);
}

/**
 * `err` and what it wraps, outermost first: every object along the `cause` links (kafkajs retries, fetch
 * and the ClickHouse client wrap the error that matters in `cause`). A link back to an earlier one ends it.
 */
export function causeChain(err: unknown): object[] {
  const chain: object[] = [];
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if (chain.includes(e)) break;
    chain.push(e);
  }
  return chain;
}

/** The Errors at the head of causeChain(err): the walk stops at the first link that is not an Error. */
export function errorChain(err: unknown): Error[] {
  const errors: Error[] = [];
  for (const e of causeChain(err)) {
    if (!(e instanceof Error)) break;
    errors.push(e);
  }
  return errors;
}
