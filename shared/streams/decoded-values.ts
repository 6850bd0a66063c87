/**
 * The decoded value a record was encoded from, carried beside it while the record stays inside one
 * task: a record a task sends to its own source partition is processed in place (stream-task.ts),
 * and its reader can use the object its writer encoded instead of parsing the bytes again. Only
 * the runtime moves the association (BatchOutput keeps it on its messages, the in-place input
 * record gets it); a record read from Kafka has none, so readers must still decode when it is absent.
 * Decoded values are never mutated (the domain returns new objects), so sharing one is safe.
 */
const decodedBy = new WeakMap<object, object>();

/** Associates `decoded` with `carrier` (a Message or KafkaMessage object). */
export function attachDecoded(carrier: object, decoded: object): void {
  decodedBy.set(carrier, decoded);
}

/**
 * The decoded value attached to `carrier`, if any. Its type is what the writer of that topic
 * attached: the reader of a topic knows it (one topology writes and reads it).
 */
export function decodedOf<T extends object>(carrier: object): T | undefined {
  return decodedBy.get(carrier) as T | undefined;
}

/** Moves the association from one carrier to another (a copied or converted record). */
export function carryDecoded(from: object, to: object): void {
  const decoded = decodedBy.get(from);
  if (decoded !== undefined) decodedBy.set(to, decoded);
}
