import type { NewApiKey } from '../../shared/projects/api-key.ts';

/** A change to catalog JSON, or why it cannot be made: a bad request is a value, not an exception. */
export type CatalogEdit = { ok: true; json: unknown } | { ok: false; reason: string };

type KeyEntry = NewApiKey['entry'];

/**
 * `json` with `entry` appended to the keys of project `projectId`; every other field as it was (the
 * caller serialises it whole). Expects JSON that the catalog schema accepted; anything else is
 * reported, never guessed at.
 */
export function addKeyToCatalog(json: unknown, projectId: string, entry: KeyEntry): CatalogEdit {
  const copy = structuredClone(json);
  const projects =
    isRecord(copy) && Array.isArray(copy['projects']) ? (copy['projects'] as unknown[]) : undefined;
  if (!projects) return { ok: false, reason: 'it has no "projects" list' };
  const project = projects.find((p) => isRecord(p) && p['id'] === projectId);
  if (!isRecord(project) || !Array.isArray(project['keys'])) {
    const ids = projects
      .map((p) => (isRecord(p) ? p['id'] : undefined))
      .filter((id) => typeof id === 'string');
    return {
      ok: false,
      reason: `it has no project "${projectId}"; its projects: ${ids.join(', ') || '(none)'}`,
    };
  }
  project['keys'].push({ ...entry });
  return { ok: true, json: copy };
}

/** A projects file with one project (cumulative attribution) and the given keys. */
export function starterCatalog(projectId: string, entries: readonly KeyEntry[]): unknown {
  return { projects: [{ id: projectId, attribution: 'cumulative', keys: entries.map((e) => ({ ...e })) }] };
}

/** The file text: 2-space JSON and a final newline, as editors and prettier write it. */
export function catalogText(json: unknown): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
