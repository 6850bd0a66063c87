/**
 * Segment-shaped events (the HTTP Tracking API's camelCase fields) to liftstream's, for the
 * compatibility routes `/compat/segment/v1/*`, so senders built for Segment (analytics-node,
 * server-side pipelines) can point at liftstream. Pure; what it cannot map is left for validation to
 * reject with its usual per-event codes (a `page` event is `invalid_kind`), never the whole batch.
 *
 * - `messageId`, `anonymousId`, `userId`, `timestamp` (else `originalTimestamp`) map to their
 *   snake_case fields; snake_case fields already present win.
 * - `track` keeps its `properties` that are flat (string, number, boolean; nested objects and arrays
 *   are left out, as liftstream properties are flat) and takes `value` from `properties.revenue`, else
 *   `properties.value`, else `value`. Event names are snake_cased as Segment's warehouses do
 *   ("Order Completed" -> "order_completed").
 * - `track` "Experiment Viewed" (Segment's A/B testing spec) is an exposure: `experiment` from
 *   `properties.experiment_id` (else `experiment_name`), `variation` from `variation_id` (else
 *   `variation_name`); its other flat properties become the exposure's `properties` (where a
 *   project's dimensions are read from). The four naming keys are left out: they are the exposure's
 *   experiment and variation already, and would only spend the 4 KB budget.
 * - `alias` maps `previousId` to anonymous_id; `identify` with both `anonymousId` and `userId` is an
 *   alias (the sign-in that links a visitor to a user); an identify without both is rejected.
 * - `context.userAgent`, `context.locale`, `context.page.url` become the flat context `user_agent`,
 *   `locale`, `page_url` (bot detection reads user_agent); the rest of Segment's context is left out.
 */

const EXPERIMENT_VIEWED = 'Experiment Viewed';

type Json = Record<string, unknown>;

/** The liftstream event for one Segment event; anything that is not an object is returned as it is. */
export function fromSegmentEvent(raw: unknown, routeType?: 'track' | 'identify' | 'alias'): unknown {
  if (!isObject(raw)) return raw;
  const type = typeof raw['type'] === 'string' ? raw['type'] : routeType;
  const out: Json = {};
  copy(out, 'message_id', raw['message_id'] ?? raw['messageId']);
  copy(out, 'anonymous_id', raw['anonymous_id'] ?? raw['anonymousId']);
  copy(out, 'user_id', raw['user_id'] ?? raw['userId']);
  copy(out, 'timestamp', raw['timestamp'] ?? raw['originalTimestamp']);
  switch (type) {
    case 'track':
      return trackOrExposure(raw, out);
    case 'alias':
      out['type'] = 'alias';
      copy(out, 'anonymous_id', out['anonymous_id'] ?? raw['previousId']);
      return out;
    case 'identify':
      // An identify links the visitor to the user only when it names both.
      out['type'] = out['anonymous_id'] !== undefined && out['user_id'] !== undefined ? 'alias' : 'identify';
      return out;
    default:
      out['type'] = type; // left for validation to reject as invalid_kind (page, screen, group, ...)
      return out;
  }
}

function trackOrExposure(raw: Json, out: Json): Json {
  const properties = isObject(raw['properties']) ? raw['properties'] : {};
  const context = flatContext(raw['context']);
  if (context) out['context'] = context;
  if (raw['event'] === EXPERIMENT_VIEWED) {
    out['type'] = 'exposure';
    copy(out, 'experiment', properties['experiment_id'] ?? properties['experiment_name']);
    copy(out, 'variation', properties['variation_id'] ?? properties['variation_name']);
    copyFlatProperties(out, properties, EXPOSURE_NAMING_KEYS);
    return out;
  }
  out['type'] = 'track';
  copy(out, 'event', typeof raw['event'] === 'string' ? snakeCase(raw['event']) : raw['event']);
  copy(out, 'value', properties['revenue'] ?? properties['value'] ?? raw['value']);
  copyFlatProperties(out, properties, new Set());
  return out;
}

/** The "Experiment Viewed" properties that name the experiment and variation. */
const EXPOSURE_NAMING_KEYS: ReadonlySet<string> = new Set([
  'experiment_id',
  'experiment_name',
  'variation_id',
  'variation_name',
]);

/** Sets `out.properties` to the flat (string, number, boolean) properties not in `leaveOut`, if any. */
function copyFlatProperties(out: Json, properties: Json, leaveOut: ReadonlySet<string>): void {
  const flat: Json = {};
  for (const [key, value] of Object.entries(properties)) {
    if (leaveOut.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      flat[key] = value;
  }
  if (Object.keys(flat).length > 0) out['properties'] = flat;
}

/** "Order Completed" -> "order_completed": lowercase, runs of other characters to one "_". */
export function snakeCase(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function flatContext(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  const page = isObject(value['page']) ? value['page'] : {};
  for (const [key, v] of [
    ['user_agent', value['userAgent'] ?? value['user_agent']],
    ['locale', value['locale']],
    ['page_url', page['url']],
  ] as const) {
    if (typeof v === 'string') out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function copy(out: Json, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
