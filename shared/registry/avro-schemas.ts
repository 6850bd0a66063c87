import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `.avsc` files in schemas/ are the wire contract; code reads them, never restates them. */
export const schemasDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

export type AvscName = 'ingest-event' | 'unit-exposure' | 'attributed-event' | 'covariate-event';

export function readAvsc(name: AvscName): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(schemasDir, `${name}.avsc`), 'utf8')) as Record<
    string,
    unknown
  >;
}
