/**
 * The decoded value a record was encoded from, carried beside it while the record stays inside one
 * task: a record a task sends to its own source partition is processed in place (stream-task.ts),
 * and its reader can use the object its writer encoded instead of parsing the bytes again. Only
 * the runtime moves the association (BatchOutput keeps it on its messages, the in-place input
 * record gets it); a record read from Kafka has none, so readers must still decode when it is absent.
 * Decoded values are never mutated (the domain returns new objects), so sharing one is safe.
 */
// A symbol-keyed property rather than a WeakMap: the profile showed the WeakMap's set/get at ~1.4% of
// the processor's CPU. Kafka clients read only the fields they know, so the property travels unseen.
const DECODED = Symbol('liftstream.decoded');
type Carrier = { [DECODED]?: object };

/** Associates `decoded` with `carrier` (a Message or KafkaMessage object). */
export function attachDecoded(carrier: object, decoded: object): void {
  (carrier as Carrier)[DECODED] = decoded;
}

/**
 * The decoded value attached to `carrier`, if any. Its type is what the writer of that topic
 * attached: the reader of a topic knows it (one topology writes and reads it).
 */
export function decodedOf<T extends object>(carrier: object): T | undefined {
  return (carrier as Carrier)[DECODED] as T | undefined;
}

/** Moves the association from one carrier to another (a copied or converted record). */
export function carryDecoded(from: object, to: object): void {
  const decoded = (from as Carrier)[DECODED];
  if (decoded !== undefined) (to as Carrier)[DECODED] = decoded;
}
