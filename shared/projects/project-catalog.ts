import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { LiftstreamError } from '../errors.ts';

/**
 * Projects, their API keys and per-project settings, from one JSON file (PROJECTS_FILE) that every
 * service reads. Keys are stored as SHA-256 hex digests, never in clear: the file can be committed to
 * an ops repo and a leaked file grants nothing.
 *
 * {
 *   "projects": [{
 *     "id": "shop",
 *     "attribution": "cumulative" | "decision",          // default cumulative
 *     "keys": [{ "role": "write" | "read", "sha256": "<hex digest of the key>" }],
 *     "expectedSplit": { "<experiment>": { "control": 1, "treatment": 1 } },   // SRM weights; default equal
 *     "eventDefinitions": { ... }                        // gateway's config-as-code definitions (optional)
 *   }]
 * }
 */
const projectIdPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const projectSchema = z.object({
  id: z
    .string()
    .regex(projectIdPattern, 'lowercase letters, digits, _ and -, at most 64, not starting with _ or -'),
  attribution: z.enum(['cumulative', 'decision']).default('cumulative'),
  keys: z
    .array(
      z.object({
        role: z.enum(['write', 'read']),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest (64 characters)'),
      }),
    )
    .min(1, 'a project needs at least one key'),
  expectedSplit: z.record(z.string(), z.record(z.string(), z.number().positive())).default({}),
  eventDefinitions: z.unknown().optional(),
});

const catalogSchema = z.object({ projects: z.array(projectSchema).min(1, 'at least one project') });

export type ProjectSettings = z.infer<typeof projectSchema>;
export type KeyRole = 'write' | 'read';

export interface Principal {
  project: ProjectSettings;
  role: KeyRole;
}

export class ProjectCatalog {
  private readonly byDigest = new Map<string, Principal>();
  private readonly byId = new Map<string, ProjectSettings>();

  constructor(projects: ProjectSettings[]) {
    for (const project of projects) {
      if (this.byId.has(project.id)) throw invalid(`project "${project.id}" is defined twice`);
      this.byId.set(project.id, project);
      for (const key of project.keys) {
        if (this.byDigest.has(key.sha256))
          throw invalid(`a key of project "${project.id}" is also used elsewhere`);
        this.byDigest.set(key.sha256, { project, role: key.role });
      }
    }
  }

  /**
   * The project and role of a bearer token, or undefined. The lookup is by the token's SHA-256: timing
   * reveals at most something about a digest, which says nothing about any key; the final comparison is
   * constant-time anyway.
   */
  authenticate(token: string): Principal | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    const digest = sha256Hex(token);
    const found = this.byDigest.get(digest);
    if (!found) return undefined;
    const stored = found.project.keys.find((k) => k.sha256 === digest);
    return stored && timingSafeEqual(Buffer.from(stored.sha256, 'hex'), Buffer.from(digest, 'hex'))
      ? found
      : undefined;
  }

  project(id: string): ProjectSettings | undefined {
    return this.byId.get(id);
  }

  projects(): ProjectSettings[] {
    return [...this.byId.values()];
  }
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Parses catalog JSON (already read), naming the path of every problem. */
export function parseProjectCatalog(json: unknown): ProjectCatalog {
  const result = catalogSchema.safeParse(json);
  if (!result.success) {
    throw invalid(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return new ProjectCatalog(result.data.projects);
}

export function loadProjectCatalog(file: string): ProjectCatalog {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`cannot read PROJECTS_FILE ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(`PROJECTS_FILE ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseProjectCatalog(json);
}

function invalid(message: string): LiftstreamError {
  return new LiftstreamError('CONFIG_INVALID', `Invalid project catalog: ${message}`);
}
