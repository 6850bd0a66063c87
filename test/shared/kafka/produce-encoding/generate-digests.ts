/**
 * Regenerates upstream-digests.json from an UNPATCHED kafkajs, e.g.:
 *
 *   cd /tmp && npm pack kafkajs@2.2.4 && mkdir -p k && tar xzf kafkajs-2.2.4.tgz -C k
 *   npx tsx test/shared/kafka/produce-encoding/generate-digests.ts /tmp/k/package
 *
 * Only needed if cases.ts changes; the file pins what upstream kafkajs puts on the wire.
 */
import fs from 'node:fs';
import path from 'node:path';
import { produceCases } from './cases.ts';
import { digest, encodeCase } from './encode.ts';

const kafkajsDir = process.argv[2];
if (kafkajsDir === undefined) throw new Error('usage: generate-digests.ts <unpatched kafkajs package dir>');
const source = fs.readFileSync(path.join(kafkajsDir, 'src/protocol/encoder.js'), 'utf8');
if (source.includes('liftstream patch')) throw new Error(`${kafkajsDir} is the patched kafkajs`);
const digests: { bytes: number; sha256: string }[] = [];
for (const c of produceCases()) {
  const bytes = await encodeCase(kafkajsDir, c);
  digests.push({ bytes: bytes.length, sha256: digest(bytes) });
}
const out = path.join(import.meta.dirname, 'upstream-digests.json');
fs.writeFileSync(out, `${JSON.stringify(digests, null, 2)}\n`);
console.log(`${digests.length} digests → ${out}`);
