import type { PropertyValue } from './ingest-event.ts';

/**
 * The values of a project's declared dimensions for one exposure, by dimension name (docs/semantics.md,
 * "Dimensions"). A dimension the exposure has no value for is absent (results show it as "(none)").
 */
export type DimensionValues = Record<string, string>;

/**
 * For each declared dimension `d`: the exposure's `properties[d]`, else its `context[d]`, else nothing.
 * Property values become strings: a string as is, a number as `String(n)` (3 → "3", 2.5 → "2.5",
 * 1e21 → "1e+21"), a boolean as "true"/"false". Keys are written in sorted order so equal values
 * serialise equally. Only own keys count: the maps come from Avro decoding as plain objects, where
 * `properties["constructor"]` would otherwise find Object's. Cost O(declared), at most 10.
 */
export function dimensionValuesOf(
  declared: readonly string[],
  properties: Readonly<Record<string, PropertyValue>>,
  context: Readonly<Record<string, string>>,
): DimensionValues {
  const values: DimensionValues = {};
  for (const name of [...declared].sort()) {
    const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (property !== undefined) values[name] = propertyString(property);
    else if (Object.hasOwn(context, name)) values[name] = context[name]!;
  }
  return values;
}

/** A property value as a dimension value: see dimensionValuesOf. */
export function propertyString(value: PropertyValue): string {
  return typeof value === 'string' ? value : String(value);
}
