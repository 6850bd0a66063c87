// Builds the SDK: dist/index.js (ESM for bundlers and Node, `uuid` left as an import), dist/liftstream.min.js
// (one minified ESM file for a <script type="module">, everything inlined), dist/types/ (declarations).
// Prints each file's size raw and gzipped. `--outdir DIR` builds elsewhere (tests build into a temp dir).
// Plain .mjs: runs with node alone, esbuild and typescript from the workspace.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { build } from 'esbuild';

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string' }, 'skip-types': { type: 'boolean' } } });
const outDir = path.resolve(values.outdir ?? path.join(sdkDir, 'dist'));
const version = JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'), 'utf8')).version;

fs.rmSync(outDir, { recursive: true, force: true });
const common = {
  entryPoints: [path.join(sdkDir, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: `/* @liftstream/sdk ${version} | Apache-2.0 */` },
};
await build({ ...common, platform: 'neutral', outfile: path.join(outDir, 'index.js'), external: ['uuid'] });
await build({
  ...common,
  platform: 'browser',
  outfile: path.join(outDir, 'liftstream.min.js'),
  minify: true,
});

if (!values['skip-types']) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', path.join(sdkDir, 'tsconfig.json'), '--outDir', path.join(outDir, 'types')],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
  // Declarations say './x.js' as published packages do (older TypeScript does not map './x.ts' to x.d.ts).
  const typesDir = path.join(outDir, 'types');
  for (const file of fs.readdirSync(typesDir)) {
    const p = path.join(typesDir, file);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/(from '\.\/[\w-]+)\.ts'/g, "$1.js'"));
  }
}

const sizes = {};
for (const file of ['index.js', 'liftstream.min.js']) {
  const bytes = fs.readFileSync(path.join(outDir, file));
  sizes[file] = { bytes: bytes.length, gzipBytes: zlib.gzipSync(bytes, { level: 9 }).length };
  console.log(`${file}: ${bytes.length} bytes, ${sizes[file].gzipBytes} gzipped`);
}
fs.writeFileSync(path.join(outDir, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
