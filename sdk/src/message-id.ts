/**
 * message_ids: UUID v7 (RFC 9562) from the `uuid` package, time-ordered so the ids of a producer sort
 * by creation, with its random bits drawn from a pool refilled 256 ids at a time. Node's
 * crypto.getRandomValues costs about 2 µs a call, which made it three quarters of a track() call;
 * one call per 256 ids makes it negligible. (Given its bytes, uuid's v7 draws the 42 bits after the
 * millisecond at random instead of counting within the millisecond: ids stay unique, which is all an
 * idempotency key needs, and the ids of one millisecond are not ordered among themselves.)
 */
import { v7 } from 'uuid';

const pool = new Uint8Array(16 * 256);
let next = pool.length;

/** A new UUID v7 string. */
export function newMessageId(): string {
  if (next === pool.length) {
    crypto.getRandomValues(pool);
    next = 0;
  }
  const random = pool.subarray(next, (next += 16));
  return v7({ random });
}
