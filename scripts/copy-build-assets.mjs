// `npm run build` step two: copies the files the compiled code reads at run time next to it, so dist/
// is self-contained (the image ships dist/ alone). Paths mirror the sources, as the code resolves them
// relative to its own location: shared/registry/avro-schemas.ts reads ../../schemas,
// shared/clickhouse/migrations.ts reads ./migrations.
import fs from 'node:fs';

const assets = [
  ['schemas', 'dist/schemas'],
  ['shared/clickhouse/migrations', 'dist/shared/clickhouse/migrations'],
];
for (const [from, to] of assets) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}
