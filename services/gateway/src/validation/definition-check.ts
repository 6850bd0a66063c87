/**
 * Checks a track event against its event definition (event-definitions.ts).
 *
 * Value types (checked only when the event carries a value):
 * - currency: any finite number (refunds may be negative; the unit is documentation only);
 * - count: a non-negative integer;
 * - rate: a number in [0, 1];
 * - boolean: exactly 0 or 1.
 * Property schemas: required, type, enum, minimum/maximum (inclusive), pattern, format.
 * The caller decides from schemaEnforcement whether violations warn or reject; with 'off' it does
 * not call this at all.
 */
import type { EventDefinition, PropertySchema } from './event-definitions.ts';
import type { PropertyValue } from './normalized-event.ts';
import { childPath, describeValue } from './json-path.ts';
import { isFullDate, parseDateTime } from './timestamp.ts';

/** One way the event breaks its definition; `field` is a JSON path. */
export interface SchemaViolation {
  readonly field: string;
  readonly message: string;
}

const NONE: readonly SchemaViolation[] = Object.freeze([]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function valueProblem(definition: EventDefinition, value: number): string | undefined {
  switch (definition.valueType) {
    case 'count':
      return Number.isInteger(value) && value >= 0 ? undefined : 'a non-negative integer';
    case 'rate':
      return value >= 0 && value <= 1 ? undefined : 'a number in [0, 1]';
    case 'boolean':
      return value === 0 || value === 1 ? undefined : '0 or 1';
    default:
      return undefined; // currency and no value type: any finite number, already checked
  }
}

function formatHolds(schema: PropertySchema, text: string): boolean {
  switch (schema.format) {
    case 'uuid':
      return UUID.test(text);
    case 'uri':
      return URL.canParse(text);
    case 'date-time':
      return !Number.isNaN(parseDateTime(text));
    case 'date':
      return isFullDate(text);
    default:
      return true;
  }
}

function propertyProblem(schema: PropertySchema, value: PropertyValue): string | undefined {
  if (typeof value !== schema.type)
    return `must be a ${schema.type}, got ${typeof value} ${describeValue(value)}`;
  if (schema.enum !== null && !schema.enum.has(value)) {
    return `must be one of ${[...schema.enum].map(describeValue).join(', ')}, got ${describeValue(value)}`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== null && value < schema.minimum)
      return `must be >= ${schema.minimum}, got ${value}`;
    if (schema.maximum !== null && value > schema.maximum)
      return `must be <= ${schema.maximum}, got ${value}`;
  } else if (typeof value === 'string') {
    if (schema.pattern !== null && !schema.pattern.test(value)) {
      return `must match /${schema.pattern.source}/, got ${describeValue(value)}`;
    }
    if (schema.format !== null && !formatHolds(schema, value)) {
      return `must be a ${schema.format}, got ${describeValue(value)}`;
    }
  }
  return undefined;
}

function suffix(definition: EventDefinition): string {
  return ` (definition of event '${definition.name}')`;
}

/**
 * Every way the event breaks `definition`, in order: value first, then properties in declaration
 * order. Returns a shared empty array when there is none (no allocation on the common path).
 * `properties` must be the normalised null-prototype map, so lookups never see Object.prototype.
 */
export function checkAgainstDefinition(
  definition: EventDefinition,
  value: number | null,
  properties: Readonly<Record<string, PropertyValue>>,
): readonly SchemaViolation[] {
  let out: SchemaViolation[] | undefined;
  if (value !== null) {
    const expected = valueProblem(definition, value);
    if (expected !== undefined) {
      out = [
        {
          field: 'value',
          message: `value must be ${expected} for valueType '${definition.valueType}', got ${value}${suffix(definition)}`,
        },
      ];
    }
  }
  for (const schema of definition.properties) {
    const v = properties[schema.name];
    let problem: string | undefined;
    if (v === undefined) problem = schema.required ? 'is required' : undefined;
    else problem = propertyProblem(schema, v);
    if (problem !== undefined) {
      const field = childPath('properties', schema.name);
      (out ??= []).push({ field, message: `${field} ${problem}${suffix(definition)}` });
    }
  }
  return out ?? NONE;
}
