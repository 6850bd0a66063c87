import type { ParseArgsOptionsConfig } from 'node:util';
import type { CliIo } from './cli-io.ts';
import type { Command } from './command.ts';
import { experimentsLines, isExperimentsList } from './experiments-table.ts';
import { parseCommandArgs } from './parse-command-args.ts';
import {
  getFromStats,
  notStatsApi,
  refusal,
  statsApiFrom,
  statsApiOptions,
  statsApiOptionsHelp,
} from './stats-api.ts';
import { painter } from './text-table.ts';

const name = 'experiments';

const options = { ...statsApiOptions } as const satisfies ParseArgsOptionsConfig;

const help = `Usage: liftstream experiments [--url URL] [--json]

Lists the experiments of the read key's project (GET /v1/experiments): each with its analysed units,
per variation, the units exposed to several variations (left out), the first exposure and the time the
newest unit was first exposed.

Options:
${statsApiOptionsHelp}`;

export const experiments: Command = {
  name,
  summary: "list the project's experiments, with units per variation (stats API)",
  help,
  run,
};

async function run(args: string[], io: CliIo): Promise<void> {
  const values = parseCommandArgs(name, args, options);
  const api = statsApiFrom(values, io.env ?? {}, name);
  const answer = await getFromStats(api, '/v1/experiments');
  if (!answer.ok) throw refusal(api, answer);
  if (!isExperimentsList(answer.body)) throw notStatsApi(api, 'answered without an experiments list');
  io.out(values.json ? answer.text : experimentsLines(answer.body, painter(io.color)).join('\n'));
}
