/** What the soak reads from the services' pino (JSON lines) log files. */
import fs from 'node:fs';

interface LogLine {
  level?: number;
  msg?: string;
  err?: unknown;
  url?: string;
}

function lines(file: string): LogLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // A line cut by a crash, or not pino's.
    }
  }
  return out;
}

/** Warnings and errors of one log: counts, and each distinct message with its count and one example. */
export interface LogProblems {
  warnings: number;
  errors: number;
  messages: { level: 'warn' | 'error'; msg: string; count: number; example: string }[];
}

/** pino levels: 40 warn, 50 error, 60 fatal. */
export function logProblems(file: string): LogProblems {
  const byMsg = new Map<string, LogProblems['messages'][number]>();
  let warnings = 0;
  let errors = 0;
  for (const line of lines(file)) {
    const level = line.level ?? 0;
    if (level < 40) continue;
    const kind = level >= 50 ? 'error' : 'warn';
    if (kind === 'error') errors++;
    else warnings++;
    const msg = line.msg ?? '(no message)';
    const seen = byMsg.get(`${kind}:${msg}`);
    if (seen) seen.count++;
    else
      byMsg.set(`${kind}:${msg}`, {
        level: kind,
        msg,
        count: 1,
        example: line.err === undefined ? '' : JSON.stringify(line.err).slice(0, 300),
      });
  }
  return { warnings, errors, messages: [...byMsg.values()].sort((a, b) => b.count - a.count) };
}

/**
 * The processor's health and metrics URL, from its start-up line (startPipeline does not expose the
 * port it chose); null when not found.
 */
export function processorMetricsUrl(logFile: string): string | null {
  const line = lines(logFile).find((l) => l.msg === 'processor health and metrics listening');
  return line?.url === undefined ? null : `${line.url}/metrics`;
}
