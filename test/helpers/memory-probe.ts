/**
 * Preloaded into a service under test (`node --expose-gc --import ./test/helpers/memory-probe.ts`):
 * on SIGUSR2 it runs full garbage collections and appends `process.memoryUsage()` as one JSON line to
 * MEMORY_PROBE_FILE, so a test measures live memory, not garbage that has not been collected yet.
 * Only tests load it; the services never do.
 */
import fs from 'node:fs';

const file = process.env['MEMORY_PROBE_FILE'];
if (file !== undefined && file !== '') {
  process.on('SIGUSR2', () => {
    const gc = globalThis.gc;
    if (gc === undefined) throw new Error('memory-probe needs node --expose-gc');
    // Twice: the first pass runs finalizers that free more on the second.
    gc();
    gc();
    fs.appendFileSync(file, `${JSON.stringify(process.memoryUsage())}\n`);
  });
}
