// `npm run build:ui`: bundles the results page (ui/) into dist/ui, which the stats service serves under
// /ui (services/stats/src/http/ui-routes.ts, STATS_UI_DIR). One JS and one CSS file with content hashes
// in their names under assets/ (cached for a year), index.html pointing at them (revalidated), the
// favicon, and a .gz beside each text file so the server compresses nothing at run time. Prints each
// file's size raw and gzipped. `--outdir DIR` builds elsewhere (tests build into a temp dir).
// Plain .mjs: runs with node alone, esbuild from devDependencies. Types are checked by
// `npm run typecheck:ui`, not here (esbuild strips them).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uiDir = path.join(root, 'ui');
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outDir = path.resolve(values.outdir ?? path.join(root, 'dist', 'ui'));

fs.rmSync(outDir, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: path.join(uiDir, 'src', 'main.tsx') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // Browsers of the last few years: ES2022 syntax, ResizeObserver, URLSearchParams.size.
  target: ['es2022', 'chrome111', 'firefox115', 'safari17'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  outdir: path.join(outDir, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((file) =>
  path.relative(outDir, path.resolve(root, file)),
);
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (js === undefined || css === undefined)
  throw new Error(`expected one .js and one .css, got ${outputs.join(', ')}`);
const html = fs
  .readFileSync(path.join(uiDir, 'index.html'), 'utf8')
  .replace('%APP_JS%', js.split(path.sep).join('/'))
  .replace('%APP_CSS%', css.split(path.sep).join('/'));
if (html.includes('%APP_')) throw new Error('ui/index.html has a placeholder this script does not fill');
fs.writeFileSync(path.join(outDir, 'index.html'), html);
fs.copyFileSync(path.join(uiDir, 'favicon.svg'), path.join(outDir, 'favicon.svg'));

const sizes = {};
for (const file of ['index.html', 'favicon.svg', js, css]) {
  const bytes = fs.readFileSync(path.join(outDir, file));
  const gzipped = zlib.gzipSync(bytes, { level: 9 });
  fs.writeFileSync(path.join(outDir, `${file}.gz`), gzipped);
  sizes[file] = { bytes: bytes.length, gzipBytes: gzipped.length };
  console.log(`${file}: ${bytes.length} bytes, ${gzipped.length} gzipped`);
}
const total = Object.values(sizes).reduce((n, s) => n + s.gzipBytes, 0);
console.log(`results page: ${total} bytes gzipped in ${outDir}`);
