import { describe, expect, it } from 'vitest';
import { checkAgainstDefinition } from '../../../../services/gateway/src/validation/definition-check.ts';
import type { EventDefinition } from '../../../../services/gateway/src/validation/event-definitions.ts';
import type { PropertyValue } from '../../../../services/gateway/src/validation/normalized-event.ts';
import { definitionsOf } from '../../../helpers/gateway-validation.ts';

const definitions = definitionsOf({
  events: {
    purchase: {
      valueType: 'currency',
      properties: {
        order_id: { type: 'string', required: true, format: 'uuid' },
        total: { type: 'number', minimum: 0, maximum: 10000 },
        payment_method: { type: 'string', enum: ['credit_card', 'paypal'] },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        landing: { type: 'string', format: 'uri' },
        paid_at: { type: 'string', format: 'date-time' },
        ship_on: { type: 'string', format: 'date' },
        gift: { type: 'boolean' },
      },
    },
    add_to_cart: { valueType: 'count' },
    video_watched: { valueType: 'rate' },
    signup: { valueType: 'boolean' },
    page_view: {},
  },
});

function definition(name: string): EventDefinition {
  const found = definitions.events.get(name);
  if (found === undefined) throw new Error(`no definition ${name}`);
  return found;
}

function props(values: Record<string, PropertyValue>): Record<string, PropertyValue> {
  return Object.assign(Object.create(null) as Record<string, PropertyValue>, values);
}

const VALID_PURCHASE = { order_id: '123e4567-e89b-12d3-a456-426614174000' };

describe('checkAgainstDefinition: value types', () => {
  it.each([
    ['currency', 'purchase', -10.25, true],
    ['count', 'add_to_cart', 0, true],
    ['count', 'add_to_cart', 3, true],
    ['count', 'add_to_cart', 2.5, false],
    ['count', 'add_to_cart', -1, false],
    ['rate', 'video_watched', 0, true],
    ['rate', 'video_watched', 1, true],
    ['rate', 'video_watched', 0.85, true],
    ['rate', 'video_watched', 1.2, false],
    ['rate', 'video_watched', -0.1, false],
    ['boolean', 'signup', 1, true],
    ['boolean', 'signup', 0, true],
    ['boolean', 'signup', 0.5, false],
    ['boolean', 'signup', 2, false],
    ['none', 'page_view', 1e9, true],
  ])('%s value of %s = %s passes: %s', (_type, name, value, passes) => {
    const base = name === 'purchase' ? VALID_PURCHASE : {};
    const violations = checkAgainstDefinition(definition(name), value, props(base));
    expect(violations.length === 0, JSON.stringify(violations)).toBe(passes);
    if (!passes) expect(violations[0]?.field).toBe('value');
  });

  it('does not check an absent value', () => {
    expect(checkAgainstDefinition(definition('signup'), null, props({}))).toEqual([]);
  });
});

describe('checkAgainstDefinition: property schemas', () => {
  it('passes a purchase matching every rule', () => {
    const violations = checkAgainstDefinition(
      definition('purchase'),
      10,
      props({
        ...VALID_PURCHASE,
        total: 10000,
        payment_method: 'paypal',
        currency: 'EUR',
        landing: 'https://shop.example/landing?a=1',
        paid_at: '2026-05-21T10:00:00+02:00',
        ship_on: '2026-05-22',
        gift: false,
        undeclared: 'fine',
      }),
    );
    expect(violations).toEqual([]);
  });

  it.each([
    ['a missing required property', {}, 'properties.order_id', 'is required'],
    ['a wrong type', { order_id: 42 }, 'properties.order_id', 'must be a string, got number 42'],
    ['a bad uuid', { ...VALID_PURCHASE, order_id: 'not-a-uuid' }, 'properties.order_id', 'must be a uuid'],
    ['a number below minimum', { ...VALID_PURCHASE, total: -1 }, 'properties.total', 'must be >= 0, got -1'],
    [
      'a number above maximum',
      { ...VALID_PURCHASE, total: 10000.01 },
      'properties.total',
      'must be <= 10000',
    ],
    [
      'a value outside the enum',
      { ...VALID_PURCHASE, payment_method: 'cash' },
      'properties.payment_method',
      'must be one of',
    ],
    [
      'a pattern mismatch',
      { ...VALID_PURCHASE, currency: 'eur' },
      'properties.currency',
      'must match /^[A-Z]{3}$/',
    ],
    ['a relative uri', { ...VALID_PURCHASE, landing: '/landing' }, 'properties.landing', 'must be a uri'],
    [
      'a bad date-time',
      { ...VALID_PURCHASE, paid_at: '2026-05-21' },
      'properties.paid_at',
      'must be a date-time',
    ],
    ['a bad date', { ...VALID_PURCHASE, ship_on: '2026-02-30' }, 'properties.ship_on', 'must be a date'],
    [
      'a boolean sent as a string',
      { ...VALID_PURCHASE, gift: 'true' },
      'properties.gift',
      'must be a boolean',
    ],
  ])('reports %s', (_name, values, field, fragment) => {
    const violations = checkAgainstDefinition(
      definition('purchase'),
      null,
      props(values as Record<string, PropertyValue>),
    );
    expect(violations.map((v) => v.field)).toEqual([field]);
    expect(violations[0]?.message).toContain(fragment);
    expect(violations[0]?.message).toContain("(definition of event 'purchase')");
  });

  it('reports every violation, value first then properties in declaration order', () => {
    const violations = checkAgainstDefinition(definition('add_to_cart'), -1, props({}));
    expect(violations.map((v) => v.field)).toEqual(['value']);
    const many = checkAgainstDefinition(definition('purchase'), null, props({ total: -1, gift: 1 }));
    expect(many.map((v) => v.field)).toEqual(['properties.order_id', 'properties.total', 'properties.gift']);
  });
});
