/**
 * Config-as-code event definitions (modelled on Traffical's `.traffical/config.yaml`), loaded once at
 * start-up from a JSON document (YAML, if used, is converted by the loader):
 *
 *   {
 *     "propertyGroups": {
 *       "geo": { "properties": { "market": { "type": "string", "enum": ["US", "EU", "APAC"] } } }
 *     },
 *     "events": {
 *       "purchase": {
 *         "valueType": "currency", "unit": "USD", "description": "Completed purchase",
 *         "schemaEnforcement": "reject",
 *         "propertyGroups": ["geo"],
 *         "properties": {
 *           "order_id": { "type": "string", "required": true, "format": "uuid" },
 *           "total": { "type": "number", "minimum": 0 }
 *         }
 *       }
 *     }
 *   }
 *
 * Decisions:
 * - the parser is strict: unknown keys, wrong types and contradictions are errors with a JSON path,
 *   all reported at once, so a typo ('requried') fails start-up instead of silently not validating;
 * - `schemaEnforcement` defaults to 'warn' (validate and report, lose nothing);
 * - `valueType` is optional; absent means any finite value (like 'currency');
 * - group properties and the event's own properties are flattened at parse time; a property
 *   defined twice (two groups, or a group and the event) is an error rather than an override;
 * - properties an event sends but its definition does not declare are accepted silently
 *   (definitions describe, they do not close the map);
 * - `format: email` is refused: e-mail addresses are personal data and always rejected (pii_email);
 * - `pattern` is a JavaScript regular expression compiled with the 'u' flag and, as in JSON Schema,
 *   searches the value (anchor it with ^...$ to match the whole value). Patterns come from trusted
 *   config, so their cost is the author's responsibility.
 */
import type { PropertyValue } from './normalized-event.ts';
import { childPath, describeValue, jsonTypeOf } from './json-path.ts';
import { EVENT_NAME } from './event-name.ts';
import { checkMapKey } from './properties.ts';

/** How an event's `value` is interpreted; see definition-check.ts for the checks. */
export const VALUE_TYPES = ['currency', 'count', 'rate', 'boolean'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** What a schema mismatch does: nothing, a warning on an accepted event, or a rejection. */
export const SCHEMA_ENFORCEMENTS = ['off', 'warn', 'reject'] as const;
export type SchemaEnforcement = (typeof SCHEMA_ENFORCEMENTS)[number];

export const PROPERTY_TYPES = ['string', 'number', 'boolean'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

/** String formats a property can require ('email' is deliberately absent). */
export const PROPERTY_FORMATS = ['uuid', 'uri', 'date-time', 'date'] as const;
export type PropertyFormat = (typeof PROPERTY_FORMATS)[number];

/** Default enforcement of an event definition that does not say. */
export const DEFAULT_SCHEMA_ENFORCEMENT: SchemaEnforcement = 'warn';

/** One declared property, compiled for checking. */
export interface PropertySchema {
  readonly name: string;
  readonly type: PropertyType;
  readonly required: boolean;
  /** Allowed values, or null for any. */
  readonly enum: ReadonlySet<PropertyValue> | null;
  /** Inclusive bounds for numbers, or null. */
  readonly minimum: number | null;
  readonly maximum: number | null;
  readonly pattern: RegExp | null;
  readonly format: PropertyFormat | null;
  /** Usable for breakdowns in the warehouse (carried for downstream consumers; not checked here). */
  readonly dimension: boolean;
  readonly description: string | null;
  /** Where it was declared: 'event' or 'group <name>' (for messages). */
  readonly declaredIn: string;
}

/** One event's definition with its property groups already flattened in. */
export interface EventDefinition {
  readonly name: string;
  readonly valueType: ValueType | null;
  readonly unit: string | null;
  readonly description: string | null;
  readonly schemaEnforcement: SchemaEnforcement;
  readonly propertyGroups: readonly string[];
  readonly properties: readonly PropertySchema[];
}

/** All definitions of a deployment, keyed by event name. */
export interface EventDefinitions {
  readonly events: ReadonlyMap<string, EventDefinition>;
  readonly propertyGroups: ReadonlyMap<string, readonly PropertySchema[]>;
}

/** A problem in the definitions document; `path` is a JSON path such as 'events.purchase.valueType'. */
export interface DefinitionError {
  readonly path: string;
  readonly message: string;
}

export type ParseDefinitionsResult =
  | { readonly ok: true; readonly definitions: EventDefinitions }
  | { readonly ok: false; readonly errors: readonly DefinitionError[] };

/** No definitions at all: every track event is "undefined" (discovered). */
export const EMPTY_EVENT_DEFINITIONS: EventDefinitions = { events: new Map(), propertyGroups: new Map() };

const GROUP_NAME = /^[a-z][a-z0-9_]{0,127}$/;
const ROOT_KEYS = new Set(['events', 'propertyGroups']);
const GROUP_KEYS = new Set(['properties', 'description']);
const EVENT_KEYS = new Set([
  'valueType',
  'unit',
  'description',
  'schemaEnforcement',
  'propertyGroups',
  'properties',
]);
const PROPERTY_KEYS = new Set([
  'type',
  'required',
  'enum',
  'minimum',
  'maximum',
  'pattern',
  'format',
  'dimension',
  'description',
]);

type Errors = DefinitionError[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

function checkKeys(
  obj: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  path: string,
  errors: Errors,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      errors.push({
        path: childPath(path, key),
        message: `unknown key; allowed: ${[...allowed].join(', ')}`,
      });
    }
  }
}

function optionalString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  errors: Errors,
): string | null {
  const value = obj[key];
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim() === '') {
    errors.push({
      path: childPath(path, key),
      message: `must be a non-empty string, got ${jsonTypeOf(value)}`,
    });
    return null;
  }
  return value;
}

function optionalBoolean(obj: Record<string, unknown>, key: string, path: string, errors: Errors): boolean {
  const value = obj[key];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    errors.push({ path: childPath(path, key), message: `must be true or false, got ${jsonTypeOf(value)}` });
    return false;
  }
  return value;
}

function optionalNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  errors: Errors,
): number | null {
  const value = obj[key];
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    errors.push({
      path: childPath(path, key),
      message: `must be a finite number, got ${describeValue(value)}`,
    });
    return null;
  }
  return value;
}

function parseEnum(
  value: unknown,
  type: PropertyType,
  path: string,
  errors: Errors,
): ReadonlySet<PropertyValue> | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0) {
    errors.push({ path, message: `must be a non-empty array of ${type} values` });
    return null;
  }
  const values = new Set<PropertyValue>();
  value.forEach((item: unknown, i) => {
    const itemPath = `${path}[${i}]`;
    if (typeof item !== type || (typeof item === 'number' && !Number.isFinite(item))) {
      errors.push({
        path: itemPath,
        message: `must be a ${type} like the property, got ${describeValue(item)}`,
      });
    } else if (values.has(item as PropertyValue)) {
      errors.push({ path: itemPath, message: `duplicate value ${describeValue(item)}` });
    } else {
      values.add(item as PropertyValue);
    }
  });
  return values;
}

function parsePattern(value: unknown, path: string, errors: Errors): RegExp | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '') {
    errors.push({ path, message: `must be a non-empty regular expression string, got ${jsonTypeOf(value)}` });
    return null;
  }
  try {
    return new RegExp(value, 'u');
  } catch (error) {
    // RegExp reports syntax errors only by throwing; this runs once at start-up.
    errors.push({ path, message: `is not a valid regular expression: ${(error as Error).message}` });
    return null;
  }
}

function parseFormat(value: unknown, path: string, errors: Errors): PropertyFormat | null {
  if (value === undefined) return null;
  if (value === 'email') {
    errors.push({
      path,
      message:
        "'email' cannot be used: e-mail addresses are personal data and the gateway rejects them (pii_email)",
    });
    return null;
  }
  if (!oneOf(PROPERTY_FORMATS, value)) {
    errors.push({
      path,
      message: `must be one of ${PROPERTY_FORMATS.join(', ')}, got ${describeValue(value)}`,
    });
    return null;
  }
  return value;
}

function parseProperty(
  name: string,
  spec: unknown,
  path: string,
  declaredIn: string,
  errors: Errors,
): PropertySchema | undefined {
  const keyProblem = checkMapKey(name, 'properties');
  if (keyProblem !== undefined) {
    errors.push({ path, message: `invalid property name: ${keyProblem.message}` });
    return undefined;
  }
  if (!isObject(spec)) {
    errors.push({ path, message: `must be an object with at least 'type', got ${jsonTypeOf(spec)}` });
    return undefined;
  }
  const before = errors.length;
  checkKeys(spec, PROPERTY_KEYS, path, errors);
  const type = spec['type'];
  if (!oneOf(PROPERTY_TYPES, type)) {
    errors.push({
      path: childPath(path, 'type'),
      message: `must be one of ${PROPERTY_TYPES.join(', ')}, got ${describeValue(type)}`,
    });
    return undefined;
  }
  const required = optionalBoolean(spec, 'required', path, errors);
  const enumValues = parseEnum(spec['enum'], type, childPath(path, 'enum'), errors);
  const minimum = optionalNumber(spec, 'minimum', path, errors);
  const maximum = optionalNumber(spec, 'maximum', path, errors);
  const pattern = parsePattern(spec['pattern'], childPath(path, 'pattern'), errors);
  const format = parseFormat(spec['format'], childPath(path, 'format'), errors);
  const dimension = optionalBoolean(spec, 'dimension', path, errors);
  const description = optionalString(spec, 'description', path, errors);
  if (type !== 'number') {
    for (const key of ['minimum', 'maximum'] as const) {
      if (spec[key] !== undefined)
        errors.push({ path: childPath(path, key), message: `only applies to type number` });
    }
  }
  if (type !== 'string') {
    for (const key of ['pattern', 'format'] as const) {
      if (spec[key] !== undefined)
        errors.push({ path: childPath(path, key), message: `only applies to type string` });
    }
  }
  if (minimum !== null && maximum !== null && minimum > maximum) {
    errors.push({
      path: childPath(path, 'minimum'),
      message: `minimum ${minimum} is greater than maximum ${maximum}`,
    });
  }
  if (errors.length > before) return undefined;
  return {
    name,
    type,
    required,
    enum: enumValues,
    minimum,
    maximum,
    pattern,
    format,
    dimension,
    description,
    declaredIn,
  };
}

function parseProperties(value: unknown, path: string, declaredIn: string, errors: Errors): PropertySchema[] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    errors.push({
      path,
      message: `must be an object of property name to property schema, got ${jsonTypeOf(value)}`,
    });
    return [];
  }
  const out: PropertySchema[] = [];
  for (const name of Object.keys(value)) {
    const schema = parseProperty(name, value[name], childPath(path, name), declaredIn, errors);
    if (schema !== undefined) out.push(schema);
  }
  return out;
}

function parseGroups(value: unknown, errors: Errors): Map<string, readonly PropertySchema[]> {
  const groups = new Map<string, readonly PropertySchema[]>();
  if (value === undefined) return groups;
  if (!isObject(value)) {
    errors.push({
      path: 'propertyGroups',
      message: `must be an object of group name to group, got ${jsonTypeOf(value)}`,
    });
    return groups;
  }
  for (const name of Object.keys(value)) {
    const path = childPath('propertyGroups', name);
    if (!GROUP_NAME.test(name)) {
      errors.push({ path, message: `group name must match ${GROUP_NAME.source}` });
      continue;
    }
    const group = value[name];
    if (!isObject(group)) {
      errors.push({ path, message: `must be an object with 'properties', got ${jsonTypeOf(group)}` });
      continue;
    }
    checkKeys(group, GROUP_KEYS, path, errors);
    optionalString(group, 'description', path, errors);
    if (group['properties'] === undefined)
      errors.push({ path: childPath(path, 'properties'), message: 'is required' });
    groups.set(
      name,
      parseProperties(group['properties'], childPath(path, 'properties'), `group ${name}`, errors),
    );
  }
  return groups;
}

function parseGroupRefs(
  value: unknown,
  path: string,
  groups: ReadonlyMap<string, readonly PropertySchema[]>,
  errors: Errors,
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    errors.push({ path, message: `must be an array of property group names, got ${jsonTypeOf(value)}` });
    return [];
  }
  const refs: string[] = [];
  value.forEach((ref: unknown, i) => {
    const refPath = `${path}[${i}]`;
    if (typeof ref !== 'string') {
      errors.push({ path: refPath, message: `must be a property group name, got ${jsonTypeOf(ref)}` });
    } else if (!groups.has(ref)) {
      errors.push({ path: refPath, message: `no property group named ${describeValue(ref)} is defined` });
    } else if (refs.includes(ref)) {
      errors.push({ path: refPath, message: `group ${describeValue(ref)} is listed twice` });
    } else {
      refs.push(ref);
    }
  });
  return refs;
}

function parseEvent(
  name: string,
  spec: unknown,
  groups: ReadonlyMap<string, readonly PropertySchema[]>,
  errors: Errors,
): EventDefinition | undefined {
  const path = childPath('events', name);
  if (name.startsWith('$')) {
    errors.push({ path, message: "event names starting with '$' are reserved for the system" });
    return undefined;
  }
  if (!EVENT_NAME.test(name)) {
    errors.push({ path, message: `event name must be snake_case matching ${EVENT_NAME.source}` });
    return undefined;
  }
  if (!isObject(spec)) {
    errors.push({ path, message: `must be an object, got ${jsonTypeOf(spec)}` });
    return undefined;
  }
  checkKeys(spec, EVENT_KEYS, path, errors);
  let valueType: ValueType | null = null;
  if (spec['valueType'] !== undefined) {
    if (oneOf(VALUE_TYPES, spec['valueType'])) valueType = spec['valueType'];
    else {
      errors.push({
        path: childPath(path, 'valueType'),
        message: `must be one of ${VALUE_TYPES.join(', ')}, got ${describeValue(spec['valueType'])}`,
      });
    }
  }
  let schemaEnforcement = DEFAULT_SCHEMA_ENFORCEMENT;
  if (spec['schemaEnforcement'] !== undefined) {
    if (oneOf(SCHEMA_ENFORCEMENTS, spec['schemaEnforcement'])) schemaEnforcement = spec['schemaEnforcement'];
    else {
      errors.push({
        path: childPath(path, 'schemaEnforcement'),
        message: `must be one of ${SCHEMA_ENFORCEMENTS.join(', ')}, got ${describeValue(spec['schemaEnforcement'])}`,
      });
    }
  }
  const unit = optionalString(spec, 'unit', path, errors);
  const description = optionalString(spec, 'description', path, errors);
  const propertyGroups = parseGroupRefs(
    spec['propertyGroups'],
    childPath(path, 'propertyGroups'),
    groups,
    errors,
  );
  const own = parseProperties(spec['properties'], childPath(path, 'properties'), 'event', errors);

  const properties: PropertySchema[] = [];
  const seen = new Map<string, string>();
  for (const schema of [...propertyGroups.flatMap((g) => groups.get(g) ?? []), ...own]) {
    const earlier = seen.get(schema.name);
    if (earlier !== undefined) {
      errors.push({
        path: childPath(childPath(path, 'properties'), schema.name),
        message: `property is declared by both ${earlier} and ${schema.declaredIn}; declare it once`,
      });
      continue;
    }
    seen.set(schema.name, schema.declaredIn);
    properties.push(schema);
  }
  return { name, valueType, unit, description, schemaEnforcement, propertyGroups, properties };
}

/**
 * Validates and compiles an event definitions document (see the module comment for its shape).
 * Returns the definitions, or every error found with its JSON path; never throws.
 */
export function parseEventDefinitions(json: unknown): ParseDefinitionsResult {
  const errors: Errors = [];
  if (!isObject(json)) {
    return {
      ok: false,
      errors: [{ path: '', message: `definitions must be an object, got ${jsonTypeOf(json)}` }],
    };
  }
  checkKeys(json, ROOT_KEYS, '', errors);
  const propertyGroups = parseGroups(json['propertyGroups'], errors);
  const events = new Map<string, EventDefinition>();
  const rawEvents = json['events'];
  if (rawEvents !== undefined && !isObject(rawEvents)) {
    errors.push({
      path: 'events',
      message: `must be an object of event name to definition, got ${jsonTypeOf(rawEvents)}`,
    });
  } else if (rawEvents !== undefined) {
    for (const name of Object.keys(rawEvents)) {
      const definition = parseEvent(name, rawEvents[name], propertyGroups, errors);
      if (definition !== undefined) events.set(name, definition);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, definitions: { events, propertyGroups } };
}
