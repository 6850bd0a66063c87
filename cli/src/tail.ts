import type { ParseArgsOptionsConfig } from 'node:util';
import { loadCommonConfig } from '../../shared/config/common-config.ts';
import { usageError } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { closestName } from './closest-name.ts';
import type { Command } from './command.ts';
import {
  EVENT_TYPES,
  ingestJson,
  ingestLine,
  matchesFilter,
  type EventType,
  type IngestFilter,
} from './ingest-line.ts';
import { projectIdOption } from './option-values.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import { painter } from './text-table.ts';

const name = 'tail';

const options = {
  project: { type: 'string' },
  type: { type: 'string' },
  unit: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

/** Unreadable records reported one by one; beyond this they are only counted (a foreign producer floods). */
const UNREADABLE_SHOWN = 10;

const help = `Usage: liftstream tail [--project P] [--type exposure|track|alias] [--unit U] [--json]

Follows the events the gateway accepts, as they arrive, until Ctrl-C (or SIGTERM): the ingest topic
(<TOPIC_PREFIX>ingest) read from its end, decoded through the schema registry, one line per event. For
checking that producers are wired right; the figures come from liftstream results.

It reads Kafka directly, not the stats API: it needs network access to the brokers and the registry
and no API key (no --url, no LIFTSTREAM_READ_KEY), and it sees every project's events. It reads the
services' variables: KAFKA_BROKERS (default 127.0.0.1:9092), SCHEMA_REGISTRY_URL (default
http://127.0.0.1:8081/apis/ccompat/v7) and TOPIC_PREFIX (default liftstream.). It joins no one's
consumer group and commits no offset.

Options:
  --project P    only the events of project P
  --type T       only exposure, track or alias events
  --unit U       only the events whose user_id or anonymous_id is U
  --json         one JSON object per line: timestamp, received_at, event_id, project, type,
                 message_id, user_id, anonymous_id, the type's fields, context
  -h, --help     show this help

A line: event time (UTC), project, type, user_id and anonymous_id when present, then experiment and
variation (exposure) or event, value and sample when not 1 (track). Notes (following, skipped
records, stopped) go to stderr, so stdout carries the events only.`;

export const tail: Command = {
  name,
  summary: 'follow the events the gateway accepts, from the ingest topic (Kafka, no API key)',
  help,
  run,
};

async function run(args: string[], io: CliIo): Promise<void> {
  const values = parseCommandArgs(name, args, options);
  const filter: IngestFilter = {
    project: values.project === undefined ? undefined : projectIdOption(values.project, name),
    type: typeOption(values.type),
    unit: values.unit,
  };
  const config = loadCommonConfig(io.env ?? {});
  const stop = io.stopSignal?.() ?? new AbortController().signal;
  const paint = painter(io.color);
  // Loaded here: kafkajs and the registry client would slow every other command's start by ~0.5 s.
  const { followIngest } = await import('./ingest-follow.ts');
  let seen = 0;
  let shown = 0;
  let unreadable = 0;
  await followIngest(
    config,
    {
      ready: (topic) =>
        io.err(
          `Following ${topic} at ${config.kafka.brokers.join(',')} from now on${filterNote(filter)}; Ctrl-C stops.`,
        ),
      event: (event) => {
        seen += 1;
        if (!matchesFilter(event, filter)) return;
        shown += 1;
        io.out(values.json ? ingestJson(event) : ingestLine(event, paint));
      },
      unreadable: (reason, where) => {
        unreadable += 1;
        if (unreadable <= UNREADABLE_SHOWN)
          io.err(`Skipped the record at partition ${where.partition}, offset ${where.offset}: ${reason}`);
        if (unreadable === UNREADABLE_SHOWN) io.err('Further unreadable records are only counted.');
      },
    },
    stop,
  );
  io.err(
    `Stopped: ${shown} of ${seen} events shown` +
      (unreadable > 0 ? `, ${unreadable} unreadable records skipped.` : '.'),
  );
}

function typeOption(value: string | undefined): EventType | undefined {
  if (value === undefined) return undefined;
  const type = EVENT_TYPES.find((t) => t === value);
  if (type !== undefined) return type;
  const guess = closestName(value, EVENT_TYPES);
  throw usageError(
    `--type must be exposure, track or alias, got "${value}"${guess ? ` (did you mean ${guess}?)` : ''}`,
    name,
  );
}

function filterNote(filter: IngestFilter): string {
  const parts = [
    filter.project === undefined ? undefined : `project ${filter.project}`,
    filter.type === undefined ? undefined : `${filter.type} events`,
    filter.unit === undefined ? undefined : `unit ${JSON.stringify(filter.unit)}`,
  ].filter((p) => p !== undefined);
  return parts.length === 0 ? '' : ` (only ${parts.join(', ')})`;
}
