/**
 * The results page: the static bundle `npm run build:ui` writes (scripts/build-ui.mjs), served under /ui
 * by this process (no separate server). The page is a client of the /v1 API with the user's read key, so
 * serving it needs no key and shows no data. What it sends:
 * - a strict Content-Security-Policy (scripts and styles from this origin only, nothing inline, API calls
 *   to this origin only, no framing), nosniff, no referrer;
 * - `Cache-Control: no-cache` (revalidate by ETag) for index.html and other unhashed files, a year and
 *   `immutable` for the content-hashed files under assets/;
 * - the build's `.gz` sibling when the client accepts gzip (the bundle is compressed once, at build time).
 * Without a built bundle (no index.html in the directory) /ui answers 503 `ui_not_built` naming the build
 * command; the API does not depend on it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StatsHttpError } from './stats-errors.ts';

/**
 * Where the built page is by default: `dist/ui` of the checkout when the service runs from source
 * (tsx), `ui` beside the compiled services when it runs from dist/ (the image ships dist/ alone), since
 * this file is then dist/services/stats/src/http/ui-routes.js.
 */
export const DEFAULT_UI_DIR = (() => {
  const root = path.resolve(import.meta.dirname, '../../../..');
  return import.meta.filename.endsWith('.ts') ? path.join(root, 'dist', 'ui') : path.join(root, 'ui');
})();

/** The page's policy: everything from this origin, nothing inline, no framing, no plugins. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** A file name the build gives content-hashed names to: `assets/<name>-<hash>.<ext>`. */
const HASHED = /^assets\/[\w.-]+-[A-Z0-9]{8,}\.[a-z0-9]+$/;
/** Relative paths the handler will look up: plain segments, no dot-files, no `..`, no backslashes. */
const SAFE_PATH = /^(?:[\w-][\w.-]*\/)*[\w-][\w.-]*$/;

export interface UiRouteDeps {
  /** Directory of the built page (STATS_UI_DIR). */
  dir: string;
}

export function uiRoutes(deps: UiRouteDeps) {
  const dir = path.resolve(deps.dir);
  return async function plugin(app: FastifyInstance): Promise<void> {
    const hide = { hide: true };
    // Relative asset URLs in index.html need the trailing slash.
    app.get('/ui', { schema: { ...hide, summary: 'The results page' } }, async (_request, reply) =>
      reply.redirect('/ui/', 301),
    );
    app.get(
      '/ui/*',
      { schema: { ...hide, summary: 'The results page and its assets' } },
      async (request, reply) => {
        const wanted = (request.params as { '*'?: string })['*'] ?? '';
        return serveFile(dir, wanted === '' ? 'index.html' : wanted, request, reply);
      },
    );
  };
}

async function serveFile(
  dir: string,
  relative: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (!(await isFile(path.join(dir, 'index.html')))) {
    throw new StatsHttpError(
      'ui_not_built',
      `the results page is not built: run "npm run build:ui" (or "npm run build"), which writes it to ${dir} ` +
        '(STATS_UI_DIR); the API under /v1 works without it',
    );
  }
  const type = CONTENT_TYPES[path.extname(relative)];
  const file = path.join(dir, relative);
  if (!SAFE_PATH.test(relative) || type === undefined || !file.startsWith(dir + path.sep)) {
    throw new StatsHttpError('not_found', 'no such file of the results page');
  }
  const gzipped = acceptsGzip(request) && (await isFile(`${file}.gz`));
  const served = gzipped ? `${file}.gz` : file;
  const stat = await fs.stat(served).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) {
    throw new StatsHttpError('not_found', 'no such file of the results page');
  }
  const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}${gzipped ? '-gz' : ''}"`;
  reply
    .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin')
    .header('cache-control', HASHED.test(relative) ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('vary', 'accept-encoding')
    .header('etag', etag)
    .header('content-type', type);
  if (notModified(request, etag)) return reply.code(304).send();
  if (gzipped) reply.header('content-encoding', 'gzip');
  return reply.send(await fs.readFile(served));
}

/** Whether Accept-Encoding allows gzip (named, or `*`, with a q-value above 0). */
function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** If-None-Match naming this ETag (a list, weak or strong, or `*`). */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

async function isFile(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined))?.isFile() ?? false;
}
