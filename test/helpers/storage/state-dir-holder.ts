/**
 * A replica holding a state directory, as a child process for the ownership tests:
 *   node --import tsx test/helpers/storage/state-dir-holder.ts <parent> <hostname> [staleAfterMs]
 * Opens an LmdbDirectory under <parent> as if it ran on <hostname>, prints `open <dir>` (or the refusal
 * on stderr, exit 1), logs takeovers as JSON lines, and on SIGTERM closes it and exits 0.
 */
import { LmdbDirectory } from '../../../shared/storage/lmdb-directory.ts';

const [parent, hostname, staleAfterMs] = process.argv.slice(2);
if (parent === undefined || hostname === undefined)
  throw new Error('usage: <parent> <hostname> [staleAfterMs]');
const logger = {
  info: (obj: object, msg: string) => console.log(JSON.stringify({ level: 'info', msg, ...obj })),
  error: (obj: object, msg: string) => console.log(JSON.stringify({ level: 'error', msg, ...obj })),
};
try {
  const directory = LmdbDirectory.open(parent, {
    setting: 'STATE_DIR',
    what: 'processor state store',
    logger,
    owner: {
      hostname,
      heartbeatMs: 100,
      ...(staleAfterMs === undefined ? {} : { staleAfterMs: Number(staleAfterMs) }),
    },
  });
  console.log(`open ${directory.dir}`);
  // Keeps the process alive (the heartbeat is unref'd) until SIGTERM.
  const alive = setInterval(() => undefined, 60_000);
  process.once('SIGTERM', () => {
    clearInterval(alive);
    directory.close();
    process.exit(0);
  });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
