import { describe, expect, it } from 'vitest';
import { parseEventDefinitions } from '../../../../services/gateway/src/validation/event-definitions.ts';

/** The Traffical seed's example, as JSON. */
const TRAFFICAL_EXAMPLE = {
  propertyGroups: {
    geo: {
      properties: {
        market: { type: 'string', enum: ['US', 'EU', 'APAC'], dimension: true },
        country: { type: 'string', dimension: true },
        currency: { type: 'string', pattern: '^[A-Z]{3}$', dimension: true },
      },
    },
  },
  events: {
    purchase: {
      valueType: 'currency',
      unit: 'USD',
      description: 'Completed purchase',
      schemaEnforcement: 'warn',
      propertyGroups: ['geo'],
      properties: {
        order_id: { type: 'string', required: true, format: 'uuid' },
        total: { type: 'number', required: true, minimum: 0 },
        payment_method: {
          type: 'string',
          required: true,
          enum: ['credit_card', 'paypal', 'apple_pay'],
          dimension: true,
        },
      },
    },
    add_to_cart: { valueType: 'count', description: 'Item added to cart' },
    signup: { valueType: 'boolean', description: 'User signed up' },
  },
};

function errorsOf(json: unknown): { path: string; message: string }[] {
  const parsed = parseEventDefinitions(json);
  return parsed.ok ? [] : [...parsed.errors];
}

describe('parseEventDefinitions: valid documents', () => {
  it('parses the Traffical example with group properties flattened before the own ones', () => {
    const parsed = parseEventDefinitions(TRAFFICAL_EXAMPLE);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const purchase = parsed.definitions.events.get('purchase');
    expect(purchase?.properties.map((p) => `${p.name}<${p.declaredIn}>`)).toEqual([
      'market<group geo>',
      'country<group geo>',
      'currency<group geo>',
      'order_id<event>',
      'total<event>',
      'payment_method<event>',
    ]);
    expect([purchase?.valueType, purchase?.unit, purchase?.schemaEnforcement]).toEqual([
      'currency',
      'USD',
      'warn',
    ]);
  });

  it("defaults schemaEnforcement to 'warn' and valueType to null", () => {
    const parsed = parseEventDefinitions({ events: { page_view: {} } });
    expect(parsed.ok && parsed.definitions.events.get('page_view')).toMatchObject({
      schemaEnforcement: 'warn',
      valueType: null,
      properties: [],
    });
  });

  it('compiles a pattern with the u flag', () => {
    const parsed = parseEventDefinitions(TRAFFICAL_EXAMPLE);
    const currency =
      parsed.ok && parsed.definitions.events.get('purchase')?.properties.find((p) => p.name === 'currency');
    expect(currency && currency.pattern?.flags).toBe('u');
  });

  it('accepts an empty document', () => {
    const parsed = parseEventDefinitions({});
    expect(parsed.ok && parsed.definitions.events.size).toBe(0);
  });
});

describe('parseEventDefinitions: errors', () => {
  it.each([
    ['a non-object document', [], '', 'definitions must be an object'],
    ['an unknown root key', { event: {} }, 'event', 'unknown key'],
    ['events as an array', { events: [] }, 'events', 'must be an object'],
    ['a reserved event name', { events: { $exposure: {} } }, 'events["$exposure"]', 'reserved'],
    ['a camelCase event name', { events: { addToCart: {} } }, 'events.addToCart', 'snake_case'],
    ['an event that is not an object', { events: { signup: true } }, 'events.signup', 'must be an object'],
    [
      'a typo in an event key',
      { events: { signup: { valuetype: 'count' } } },
      'events.signup.valuetype',
      'unknown key',
    ],
    [
      'an unknown valueType',
      { events: { signup: { valueType: 'money' } } },
      'events.signup.valueType',
      'must be one of',
    ],
    [
      'an unknown schemaEnforcement',
      { events: { signup: { schemaEnforcement: 'strict' } } },
      'events.signup.schemaEnforcement',
      'must be one of off, warn, reject',
    ],
    ['an empty unit', { events: { buy: { unit: '' } } }, 'events.buy.unit', 'non-empty string'],
    [
      'a reference to a missing group',
      { events: { buy: { propertyGroups: ['geo'] } } },
      'events.buy.propertyGroups[0]',
      'no property group named "geo"',
    ],
    [
      'a group listed twice',
      { propertyGroups: { geo: { properties: {} } }, events: { buy: { propertyGroups: ['geo', 'geo'] } } },
      'events.buy.propertyGroups[1]',
      'listed twice',
    ],
    [
      'a group without properties',
      { propertyGroups: { geo: {} } },
      'propertyGroups.geo.properties',
      'is required',
    ],
    [
      'a bad group name',
      { propertyGroups: { 'Geo Data': { properties: {} } } },
      'propertyGroups["Geo Data"]',
      'group name',
    ],
    [
      'a property without type',
      { events: { buy: { properties: { total: { required: true } } } } },
      'events.buy.properties.total.type',
      'must be one of string, number, boolean',
    ],
    [
      'a property type object',
      { events: { buy: { properties: { cart: { type: 'object' } } } } },
      'events.buy.properties.cart.type',
      'must be one of',
    ],
    [
      "a typo 'requried'",
      { events: { buy: { properties: { total: { type: 'number', requried: true } } } } },
      'events.buy.properties.total.requried',
      'unknown key',
    ],
    [
      'required as a string',
      { events: { buy: { properties: { total: { type: 'number', required: 'yes' } } } } },
      'events.buy.properties.total.required',
      'true or false',
    ],
    [
      'an empty enum',
      { events: { buy: { properties: { m: { type: 'string', enum: [] } } } } },
      'events.buy.properties.m.enum',
      'non-empty array',
    ],
    [
      'an enum value of the wrong type',
      { events: { buy: { properties: { m: { type: 'string', enum: ['a', 1] } } } } },
      'events.buy.properties.m.enum[1]',
      'must be a string',
    ],
    [
      'a duplicate enum value',
      { events: { buy: { properties: { m: { type: 'number', enum: [1, 1] } } } } },
      'events.buy.properties.m.enum[1]',
      'duplicate',
    ],
    [
      'minimum on a string',
      { events: { buy: { properties: { m: { type: 'string', minimum: 1 } } } } },
      'events.buy.properties.m.minimum',
      'only applies to type number',
    ],
    [
      'pattern on a number',
      { events: { buy: { properties: { m: { type: 'number', pattern: '^1' } } } } },
      'events.buy.properties.m.pattern',
      'only applies to type string',
    ],
    [
      'minimum above maximum',
      { events: { buy: { properties: { m: { type: 'number', minimum: 5, maximum: 1 } } } } },
      'events.buy.properties.m.minimum',
      'greater than maximum',
    ],
    [
      'a non-finite maximum (string)',
      { events: { buy: { properties: { m: { type: 'number', maximum: 'Infinity' } } } } },
      'events.buy.properties.m.maximum',
      'finite number',
    ],
    [
      'an invalid pattern',
      { events: { buy: { properties: { m: { type: 'string', pattern: '([a-z' } } } } },
      'events.buy.properties.m.pattern',
      'not a valid regular expression',
    ],
    [
      'format email (personal data)',
      { events: { buy: { properties: { m: { type: 'string', format: 'email' } } } } },
      'events.buy.properties.m.format',
      'personal data',
    ],
    [
      'an unknown format',
      { events: { buy: { properties: { m: { type: 'string', format: 'ipv4' } } } } },
      'events.buy.properties.m.format',
      'must be one of uuid, uri, date-time, date',
    ],
    [
      'a __proto__ property name',
      JSON.parse('{"events":{"buy":{"properties":{"__proto__":{"type":"string"}}}}}'),
      'events.buy.properties.__proto__',
      'invalid property name',
    ],
    [
      'a property declared in a group and the event',
      {
        propertyGroups: { geo: { properties: { market: { type: 'string' } } } },
        events: { buy: { propertyGroups: ['geo'], properties: { market: { type: 'string' } } } },
      },
      'events.buy.properties.market',
      'declared by both group geo and event',
    ],
  ])('reports %s', (_name, json, path, fragment) => {
    const errors = errorsOf(json);
    expect(
      errors.map((e) => e.path),
      JSON.stringify(errors),
    ).toContain(path);
    expect(errors.find((e) => e.path === path)?.message, JSON.stringify(errors)).toContain(fragment);
  });

  it('reports every error of a document at once', () => {
    const errors = errorsOf({
      events: { buy: { valueType: 'money', properties: { x: { type: 'string', format: 'email' } } }, $x: {} },
    });
    expect(errors.map((e) => e.path)).toEqual([
      'events.buy.valueType',
      'events.buy.properties.x.format',
      'events["$x"]',
    ]);
  });
});
