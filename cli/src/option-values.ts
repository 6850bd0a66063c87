import {
  isValidProjectId,
  KEY_ROLES,
  PROJECT_ID_RULE,
  type KeyRole,
} from '../../shared/projects/project-catalog.ts';
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

const ROLES_IN_WORDS = 'write, read or client';

export function roleOption(value: string | undefined, command: string): KeyRole {
  const role = KEY_ROLES.find((r) => r === value);
  if (role !== undefined) return role;
  if (value === undefined)
    throw usageError(`--role is required (${ROLES_IN_WORDS}) for "${command}"`, command);
  throw usageError(`--role must be ${ROLES_IN_WORDS}, got ${JSON.stringify(value)}`, command);
}

export function requiredOption(value: string | undefined, option: string, command: string): string {
  if (value === undefined) throw usageError(`--${option} is required for "${command}"`, command);
  return value;
}
