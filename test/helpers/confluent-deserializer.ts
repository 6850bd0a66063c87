import avro from 'avsc';

/**
 * A deliberately plain Confluent-wire-format reader, independent of liftstream's registry client:
 * magic byte 0, 4-byte big-endian id, body; writer schema fetched by id over the REST API.
 */
export async function confluentDecode(
  registryUrl: string,
  buffer: Buffer,
): Promise<{ id: number; value: unknown }> {
  if (buffer.readUInt8(0) !== 0) throw new Error(`magic byte ${buffer.readUInt8(0)} is not 0`);
  const id = buffer.readUInt32BE(1);
  const res = await fetch(`${registryUrl}/schemas/ids/${id}`);
  if (!res.ok) throw new Error(`GET /schemas/ids/${id}: ${res.status}`);
  const { schema } = (await res.json()) as { schema: string };
  const type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
  return { id, value: type.fromBuffer(buffer.subarray(5)) };
}
