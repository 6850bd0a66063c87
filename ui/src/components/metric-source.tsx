/**
 * The experiment page's choice of what to show (source.ts): the experiment's metric set, a choice of
 * catalogue metrics, or one event's figures; and, for catalogue metrics, a breakdown by a declared
 * dimension.
 */
import { useState } from 'preact/hooks';
import type { CatalogueAnswer } from '../api-types.ts';
import type { ExperimentOptions } from '../route.ts';
import { MAX_METRICS } from '../source.ts';
import type { Source } from '../source.ts';

const EVENT_NAME = /^[a-z][a-z0-9_]{0,127}$/;

export function MetricSource(props: {
  catalogue: CatalogueAnswer;
  experiment: string;
  source: Source;
  options: ExperimentOptions;
  onChange: (options: ExperimentOptions) => void;
}) {
  const { catalogue, source, options } = props;
  const hasSet = catalogue.experiments[props.experiment] !== undefined;
  const events = [...new Set(catalogue.metrics.flatMap((m) => (m.event === undefined ? [] : [m.event])))];
  const [eventError, setEventError] = useState<string | null>(null);
  const setOptions = (next: Partial<ExperimentOptions>) => props.onChange({ ...options, ...next });

  const onSource = (value: string) => {
    if (value === 'set') setOptions({ metrics: undefined, event: undefined, over: undefined });
    else if (value === 'metrics')
      setOptions({
        event: undefined,
        over: undefined,
        metrics:
          source.kind === 'event' ? catalogue.metrics.slice(0, MAX_METRICS).map((m) => m.id) : source.metrics,
      });
    else
      setOptions({
        event: options.event ?? events[0] ?? undefined,
        metrics: undefined,
        dimension: undefined,
        over: undefined,
      });
  };

  const toggleMetric = (id: string, on: boolean) => {
    const current = source.kind === 'event' ? [] : source.metrics;
    const next = on ? [...current, id] : current.filter((m) => m !== id);
    if (next.length === 0 || next.length > MAX_METRICS) return;
    // Catalogue order, so the page does not reshuffle as boxes are ticked.
    setOptions({
      metrics: catalogue.metrics.map((m) => m.id).filter((m) => next.includes(m)),
      over: undefined,
    });
  };

  const onEvent = (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem(
      'event-name',
    ) as HTMLInputElement;
    const name = input.value.trim();
    if (!EVENT_NAME.test(name)) {
      setEventError('An event name is lowercase letters, digits and _, starting with a letter.');
      return;
    }
    setEventError(null);
    setOptions({ event: name, over: undefined });
  };

  return (
    <div class="source">
      <div class="controls">
        <label>
          Show{' '}
          <select
            id="source"
            value={source.kind}
            onChange={(e) => onSource((e.currentTarget as HTMLSelectElement).value)}
          >
            {hasSet && <option value="set">The experiment’s metric set</option>}
            {catalogue.metrics.length > 0 && <option value="metrics">Catalogue metrics I choose</option>}
            <option value="event">One event’s figures</option>
          </select>
        </label>
        {source.kind !== 'event' && catalogue.dimensions.length > 0 && (
          <label>
            Break down by{' '}
            <select
              id="dimension"
              value={options.dimension ?? ''}
              onChange={(e) => {
                const value = (e.currentTarget as HTMLSelectElement).value;
                setOptions({ dimension: value === '' ? undefined : value });
              }}
            >
              <option value="">nothing (whole experiment)</option>
              {catalogue.dimensions.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {source.kind === 'metrics' && (
        <fieldset class="metric-choice">
          <legend>Metrics shown (at most {MAX_METRICS})</legend>
          {catalogue.metrics.map((m) => (
            <label key={m.id} class="check">
              <input
                type="checkbox"
                name="metric"
                value={m.id}
                checked={source.metrics.includes(m.id)}
                disabled={source.metrics.includes(m.id) && source.metrics.length === 1}
                onChange={(e) => toggleMetric(m.id, (e.currentTarget as HTMLInputElement).checked)}
              />
              {m.id}
            </label>
          ))}
        </fieldset>
      )}
      {source.kind === 'event' && (
        <form class="event-form" onSubmit={onEvent} method="post" action="#" novalidate>
          <label for="event-name">Event name</label>
          <input
            id="event-name"
            name="event-name"
            list="known-events"
            autocomplete="off"
            spellcheck={false}
            defaultValue={source.event ?? ''}
            aria-invalid={eventError !== null}
            aria-describedby={eventError === null ? undefined : 'event-error'}
            placeholder="e.g. purchase"
          />
          <datalist id="known-events">
            {events.map((e) => (
              <option key={e} value={e} />
            ))}
          </datalist>
          <button type="submit">Show</button>
          {eventError !== null && (
            <p id="event-error" class="error" role="alert">
              {eventError}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
