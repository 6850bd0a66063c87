import { isValidProjectId, PROJECT_ID_RULE, type KeyRole } from '../../shared/projects/project-catalog.ts';
import { usageError } from './cli-error.ts';

/** A project id from --project, checked with the catalog's own rule. */
export function projectIdOption(value: string, command: string): string {
  if (!isValidProjectId(value)) {
    throw usageError(
      `--project ${JSON.stringify(value)} is not a valid project id: ${PROJECT_ID_RULE}`,
      command,
    );
  }
  return value;
}

export function roleOption(value: string | undefined, command: string): KeyRole {
  if (value === 'write' || value === 'read') return value;
  if (value === undefined) throw usageError(`--role is required (write or read) for "${command}"`, command);
  throw usageError(`--role must be write or read, got ${JSON.stringify(value)}`, command);
}

export function requiredOption(value: string | undefined, option: string, command: string): string {
  if (value === undefined) throw usageError(`--${option} is required for "${command}"`, command);
  return value;
}
