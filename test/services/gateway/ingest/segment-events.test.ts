import { describe, expect, it } from 'vitest';
import { fromSegmentEvent, snakeCase } from '../../../../services/gateway/src/ingest/segment-events.ts';

describe('fromSegmentEvent', () => {
  it('maps a track event field by field, flat properties kept, value from revenue', () => {
    expect(
      fromSegmentEvent({
        type: 'track',
        event: 'Order Completed',
        messageId: 'm-1',
        anonymousId: 'a-1',
        userId: 'u-1',
        timestamp: '2026-12-05T10:00:00.000Z',
        properties: { revenue: 25, currency: 'EUR', products: [{ id: 1 }], coupon: null, gift: false },
        context: {
          userAgent: 'Mozilla/5.0',
          locale: 'de-DE',
          page: { url: 'https://shop.example/x' },
          ip: '1.2.3.4',
        },
        integrations: { All: true },
        sentAt: '2026-12-05T10:00:01.000Z',
      }),
    ).toEqual({
      type: 'track',
      event: 'order_completed',
      message_id: 'm-1',
      anonymous_id: 'a-1',
      user_id: 'u-1',
      timestamp: '2026-12-05T10:00:00.000Z',
      value: 25,
      properties: { revenue: 25, currency: 'EUR', gift: false },
      context: { user_agent: 'Mozilla/5.0', locale: 'de-DE', page_url: 'https://shop.example/x' },
    });
  });

  it('maps "Experiment Viewed" to an exposure', () => {
    expect(
      fromSegmentEvent({
        type: 'track',
        event: 'Experiment Viewed',
        userId: 'u-1',
        properties: { experiment_id: 'checkout', variation_name: 'treatment' },
      }),
    ).toEqual({ type: 'exposure', user_id: 'u-1', experiment: 'checkout', variation: 'treatment' });
  });

  it('keeps the other flat properties of "Experiment Viewed" as the exposure\'s properties', () => {
    expect(
      fromSegmentEvent({
        type: 'track',
        event: 'Experiment Viewed',
        userId: 'u-1',
        properties: {
          experiment_id: 'checkout',
          experiment_name: 'Checkout',
          variation_id: 'v2',
          variation_name: 'Treatment',
          country: 'DE',
          seats: 3,
          beta: true,
          geo: { city: 'Berlin' },
        },
      }),
    ).toEqual({
      type: 'exposure',
      user_id: 'u-1',
      experiment: 'checkout',
      variation: 'v2',
      properties: { country: 'DE', seats: 3, beta: true },
    });
  });

  it('maps alias previousId to anonymous_id, and an identify with both ids to an alias', () => {
    expect(fromSegmentEvent({ type: 'alias', previousId: 'a-1', userId: 'u-1' })).toEqual({
      type: 'alias',
      anonymous_id: 'a-1',
      user_id: 'u-1',
    });
    expect(fromSegmentEvent({ type: 'identify', anonymousId: 'a-1', userId: 'u-1', traits: {} })).toEqual({
      type: 'alias',
      anonymous_id: 'a-1',
      user_id: 'u-1',
    });
  });

  it('leaves an identify without both ids, and page events, for validation to reject', () => {
    expect(fromSegmentEvent({ type: 'identify', userId: 'u-1' })).toMatchObject({ type: 'identify' });
    expect(fromSegmentEvent({ type: 'page', userId: 'u-1' })).toMatchObject({ type: 'page' });
  });

  it('takes the type from the route of a single event', () => {
    expect(fromSegmentEvent({ event: 'Signed Up', userId: 'u' }, 'track')).toMatchObject({
      type: 'track',
      event: 'signed_up',
    });
  });

  it('lets snake_case fields win and passes non-objects through', () => {
    expect(fromSegmentEvent({ type: 'alias', user_id: 'x', userId: 'y', anonymous_id: 'a' })).toMatchObject({
      user_id: 'x',
    });
    expect(fromSegmentEvent(42)).toBe(42);
    expect(fromSegmentEvent(null)).toBe(null);
  });
});

describe('snakeCase', () => {
  it.each([
    ['Order Completed', 'order_completed'],
    ['orderCompleted', 'order_completed'],
    ['  Added to Cart!! ', 'added_to_cart'],
    ['purchase', 'purchase'],
    ['Checkout Step 2 Viewed', 'checkout_step_2_viewed'],
  ])('%s -> %s', (name, snake) => expect(snakeCase(name)).toBe(snake));
});
