/**
 * Where the user is, kept in the URL's fragment (`#/experiments/checkout?dimension=country`): links and
 * reloads keep the page and its selections, the server never sees them (a fragment is not sent), and the
 * static server needs no fallback route. Never holds the key. Pure: parse and format only.
 */

export type Figures = 'sequential' | 'fixed';
export type SeriesInterval = 'hour' | 'day';

/** The experiment page's selections; absent means the page's default. */
export interface ExperimentOptions {
  /** Catalogue metrics to show instead of the experiment's metric set. */
  metrics?: string[];
  /** One event's figures (`?metric=<event>`) instead of catalogue metrics. */
  event?: string;
  dimension?: string;
  figures?: Figures;
  /** The metric (or event) of the over-time charts. */
  over?: string;
  interval?: SeriesInterval;
}

export type Route = { page: 'list' } | { page: 'experiment'; experiment: string; options: ExperimentOptions };

const NAME = /^[a-z][a-z0-9_]{0,127}$/;

export function parseRoute(hash: string): Route {
  const body = hash.replace(/^#/, '');
  const [path = '', search = ''] = body.split('?', 2);
  const match = /^\/experiments\/([^/]+)$/.exec(path);
  if (match === null) return { page: 'list' };
  let experiment: string;
  try {
    experiment = decodeURIComponent(match[1] as string);
  } catch {
    return { page: 'list' };
  }
  const params = new URLSearchParams(search);
  const options: ExperimentOptions = {};
  const metrics = params
    .get('metrics')
    ?.split(',')
    .filter((m) => NAME.test(m));
  if (metrics !== undefined && metrics.length > 0) options.metrics = [...new Set(metrics)];
  const event = params.get('event');
  if (event !== null && NAME.test(event)) options.event = event;
  const dimension = params.get('dimension');
  if (dimension !== null && NAME.test(dimension)) options.dimension = dimension;
  const figures = params.get('figures');
  if (figures === 'sequential' || figures === 'fixed') options.figures = figures;
  const over = params.get('over');
  if (over !== null && NAME.test(over)) options.over = over;
  const interval = params.get('interval');
  if (interval === 'hour' || interval === 'day') options.interval = interval;
  return { page: 'experiment', experiment, options };
}

export function formatRoute(route: Route): string {
  if (route.page === 'list') return '#/';
  const { options } = route;
  const params = new URLSearchParams();
  if (options.metrics !== undefined && options.metrics.length > 0)
    params.set('metrics', options.metrics.join(','));
  if (options.event !== undefined) params.set('event', options.event);
  if (options.dimension !== undefined) params.set('dimension', options.dimension);
  if (options.figures !== undefined) params.set('figures', options.figures);
  if (options.over !== undefined) params.set('over', options.over);
  if (options.interval !== undefined) params.set('interval', options.interval);
  const search = params.toString();
  return `#/experiments/${encodeURIComponent(route.experiment)}${search === '' ? '' : `?${search}`}`;
}
