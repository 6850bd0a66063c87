/**
 * A stand-in service for the supervisor tests, run like the real ones (`node --import tsx <entry>`):
 * answers GET /readyz on PORT and exits 0 on SIGTERM. When the file CRASH_FILE exists as it starts, it
 * never listens and exits with code 3 after CRASH_AFTER_MS (default 100): a service that cannot start.
 */
import fs from 'node:fs';
import http from 'node:http';

const crashFile = process.env['CRASH_FILE'];
if (crashFile !== undefined && fs.existsSync(crashFile)) {
  setTimeout(() => process.exit(3), Number(process.env['CRASH_AFTER_MS'] ?? 100));
} else {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 404).end();
  });
  server.listen(Number(process.env['PORT']), '127.0.0.1');
  process.once('SIGTERM', () => process.exit(0));
}
