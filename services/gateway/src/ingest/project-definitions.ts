/**
 * Each project's event definitions (config-as-code in PROJECTS_FILE), parsed once at start-up.
 * A broken definition fails start-up with every problem named: a typo must not silently turn
 * validation off.
 */
import { LiftstreamError } from '../../../../shared/errors.ts';
import type { ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { EMPTY_EVENT_DEFINITIONS, parseEventDefinitions } from '../validation/index.ts';
import type { EventDefinitions } from '../validation/index.ts';

/** Project id → its parsed definitions (EMPTY_EVENT_DEFINITIONS when it declares none). */
export function loadProjectDefinitions(catalog: ProjectCatalog): ReadonlyMap<string, EventDefinitions> {
  const byProject = new Map<string, EventDefinitions>();
  const problems: string[] = [];
  for (const project of catalog.projects()) {
    if (project.eventDefinitions === undefined) {
      byProject.set(project.id, EMPTY_EVENT_DEFINITIONS);
      continue;
    }
    const parsed = parseEventDefinitions(project.eventDefinitions);
    if (parsed.ok) byProject.set(project.id, parsed.definitions);
    else
      for (const e of parsed.errors)
        problems.push(`project "${project.id}" eventDefinitions.${e.path}: ${e.message}`);
  }
  if (problems.length > 0) {
    throw new LiftstreamError('CONFIG_INVALID', `Invalid event definitions: ${problems.join('; ')}`);
  }
  return byProject;
}
