/**
 * Replays a Dockerfile's stages without a Docker engine, from the Dockerfile itself: each stage gets a
 * temp directory standing for the image's filesystem root; WORKDIR, ENV, COPY (from the build context,
 * filtered by .dockerignore, or `--from` an earlier stage) and RUN are carried out there as Docker would,
 * and USER and CMD are recorded. What it cannot reproduce, it refuses rather than approximates:
 * instructions it does not know, RUN commands with absolute paths (they would touch this machine
 * instead of the stage's root) and ARG/ADD/heredocs.
 *
 * The base image's own files are not there: RUN commands use this machine's `node` and `npm`, so the
 * caller checks that the running Node has the base image's major version.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Ignore } from '@balena/dockerignore';
import { createRequire } from 'node:module';
import { DockerfileParser, type Copy, type Env, type From, type Instruction } from 'dockerfile-ast';

// CommonJS `module.exports = factory`, which its typings declare as a default export NodeNext cannot see.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore;

export interface ReplayedStage {
  readonly name: string;
  /** FROM's image reference, e.g. node:22-bookworm-slim. */
  readonly baseImage: string;
  /** The directory that stands for the stage's `/`. */
  readonly root: string;
  /** The last WORKDIR, as a path inside the image (e.g. /app). */
  readonly workdir: string;
  /** ENV values in force at the end of the stage. */
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly cmd: readonly string[] | undefined;
  /** What each RUN took, for the test's report. */
  readonly runs: ReadonlyArray<{ command: string; ms: number }>;
}

export interface ReplayOptions {
  dockerfile: string;
  context: string;
  /** Parent directory of the stage roots. */
  workDir: string;
  /** Environment of RUN commands under the stage's ENV: this machine's (PATH, CA certificates, npm's cache). */
  runEnv: NodeJS.ProcessEnv;
  /** Progress lines (one per instruction that takes time). */
  log?: (line: string) => void;
}

/** Replays every stage in order; returns them by name (the last one is the image). */
export async function replayDockerfile(opts: ReplayOptions): Promise<ReplayedStage[]> {
  const parsed = DockerfileParser.parse(fs.readFileSync(opts.dockerfile, 'utf8'));
  const ignore = dockerignore().add(readDockerignore(opts.context));
  const stages: ReplayedStage[] = [];
  let current: MutableStage | undefined;
  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      if (current) stages.push(current.done());
      current = new MutableStage(instruction as From, stages.length, opts.workDir);
      continue;
    }
    if (!current) throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    const at = `Dockerfile line ${instruction.getRange().start.line + 1}`;
    switch (keyword) {
      case 'WORKDIR':
        current.workdir = path.posix.resolve(current.workdir, argumentsOf(instruction).join(' '));
        fs.mkdirSync(current.hostPath(current.workdir), { recursive: true });
        break;
      case 'ENV':
        for (const property of (instruction as Env).getProperties())
          current.env[property.getName()] = property.getValue() ?? '';
        break;
      case 'COPY':
        copy(instruction as Copy, current, stages, opts.context, ignore, at);
        break;
      case 'RUN':
        await current.run(instruction, opts, at);
        break;
      case 'USER':
        current.user = argumentsOf(instruction).join(' ');
        break;
      case 'CMD':
        current.cmd = JSON.parse(instruction.getArgumentsContent() ?? '[]') as string[];
        break;
      default:
        throw new Error(`${at}: ${keyword} is not replayed by this test; extend test/helpers/docker/`);
    }
  }
  if (current) stages.push(current.done());
  return stages;
}

class MutableStage {
  readonly name: string;
  readonly baseImage: string;
  readonly root: string;
  workdir = '/';
  env: Record<string, string> = {};
  user: string | undefined;
  cmd: string[] | undefined;
  readonly runs: Array<{ command: string; ms: number }> = [];

  constructor(from: From, index: number, workDir: string) {
    this.name = from.getBuildStage() ?? String(index);
    this.baseImage = from.getImage() ?? '';
    this.root = path.join(workDir, `stage-${index}-${this.name}`);
    fs.mkdirSync(this.root, { recursive: true });
  }

  /** A path inside the image, as a path on this machine. */
  hostPath(imagePath: string): string {
    return path.join(this.root, path.posix.resolve(this.workdir, imagePath));
  }

  async run(instruction: Instruction, opts: ReplayOptions, at: string): Promise<void> {
    const content = instruction.getArgumentsContent() ?? '';
    const argv = content.trimStart().startsWith('[')
      ? (JSON.parse(content) as string[])
      : ['sh', '-c', content];
    const absolute = argv
      .slice(argv[0] === 'sh' ? 2 : 1)
      .join(' ')
      .match(/(^|\s)\/\S*/);
    if (absolute)
      throw new Error(
        `${at}: RUN uses the absolute path ${absolute[0].trim()}; keep RUN relative to WORKDIR`,
      );
    opts.log?.(`[${this.name}] RUN ${content}`);
    const started = Date.now();
    // Asynchronous: an `npm ci` takes minutes and must not block the test runner's own event loop.
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: this.hostPath('.'),
      env: { ...opts.runEnv, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-64 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const status = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    if (status !== 0)
      throw new Error(
        `${at}: RUN ${content} failed (exit ${status ?? 'by signal'}) in stage ${this.name}:\n` +
          excerpt(output.trim().split('\n')),
      );
    this.runs.push({ command: content, ms: Date.now() - started });
  }

  done(): ReplayedStage {
    return {
      name: this.name,
      baseImage: this.baseImage,
      root: this.root,
      workdir: this.workdir,
      env: { ...this.env },
      user: this.user,
      cmd: this.cmd,
      runs: [...this.runs],
    };
  }
}

/**
 * COPY as Docker does it: a directory source copies its contents into the destination; several sources
 * or a destination ending in `/` make the destination a directory; context sources honour .dockerignore.
 */
function copy(
  instruction: Copy,
  stage: MutableStage,
  earlier: readonly ReplayedStage[],
  context: string,
  ignore: Ignore,
  at: string,
): void {
  const fromFlag = instruction
    .getFlags()
    .find((f) => f.getName() === 'from')
    ?.getValue();
  const args = argumentsOf(instruction);
  const destination = args.at(-1) ?? '';
  const sources = args.slice(0, -1);
  const fromStage = fromFlag === undefined ? undefined : earlier.find((s) => s.name === fromFlag);
  if (fromFlag !== undefined && !fromStage) throw new Error(`${at}: COPY --from=${fromFlag}: no such stage`);
  const intoDirectory = sources.length > 1 || destination.endsWith('/');
  const target = stage.hostPath(destination);
  for (const source of sources) {
    const from = fromStage
      ? path.join(fromStage.root, source)
      : path.join(context, path.posix.normalize(source));
    if (!fs.existsSync(from)) throw new Error(`${at}: COPY source ${source} does not exist`);
    const relativeToContext = fromStage ? undefined : path.relative(context, from);
    if (relativeToContext !== undefined && ignore.ignores(relativeToContext))
      throw new Error(`${at}: COPY source ${source} is excluded by .dockerignore`);
    const filter = (file: string): boolean => {
      if (relativeToContext === undefined) return true;
      const relative = path.relative(context, file);
      return relative === '' || !ignore.ignores(relative);
    };
    const isDirectory = fs.statSync(from).isDirectory();
    const targetIsDirectory = fs.existsSync(target) && fs.statSync(target).isDirectory();
    const to =
      isDirectory || !(intoDirectory || targetIsDirectory)
        ? target
        : path.join(target, path.basename(source));
    fs.mkdirSync(isDirectory ? to : path.dirname(to), { recursive: true });
    // verbatimSymlinks: node_modules/.bin links stay relative, as Docker copies them.
    fs.cpSync(from, to, { recursive: true, filter, verbatimSymlinks: true });
  }
}

function argumentsOf(instruction: Instruction): string[] {
  return instruction.getArguments().map((a) => a.getValue());
}

function readDockerignore(context: string): string[] {
  const file = path.join(context, '.dockerignore');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** npm and tsc say what went wrong first and print usage or totals last: keep both ends. */
function excerpt(lines: string[]): string {
  return lines.length <= 40
    ? lines.join('\n')
    : [...lines.slice(0, 20), '...', ...lines.slice(-20)].join('\n');
}
