/**
 * One experiment: its health, per metric and variation the figures and the forest plot of the lifts
 * (sequential by default when the API sends them, fixed-horizon one toggle away, with a sentence saying
 * which and why), optionally per dimension value, and the results over time. Live: everything is polled
 * and redrawn in place, keeping the user's scroll position, open sections and selections.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import type { Api } from '../api.ts';
import type {
  CatalogueAnswer,
  EventResultsAnswer,
  ExperimentSummary,
  MetricResultsAnswer,
  SrmBlock,
  UnitsOf,
} from '../api-types.ts';
import { eventView, hasSequential, metricViews, shownFigures } from '../figures.ts';
import type { MetricView } from '../figures.ts';
import { formatConfidence, formatCount, formatPValue } from '../format.ts';
import type { ExperimentOptions, Figures, SeriesInterval } from '../route.ts';
import { usePoll } from '../use-poll.ts';
import { MultipleExposureBadge, SrmBadge, StatusBadge } from './badges.tsx';
import { Figure } from './figure.tsx';
import { HealthPanel, SRM_ALARM_BELOW } from './health-panel.tsx';
import { MetricBlockView } from './metric-block.tsx';
import { MetricSource } from './metric-source.tsx';
import { sourceOf } from '../source.ts';
import type { Source } from '../source.ts';
import { ErrorNote, LiveNote } from './notes.tsx';
import { OverTime } from './over-time.tsx';

export const RESULTS_REFRESH_MS = 5_000;
/** The confidence the page asks of the event answer (it does not echo it; the catalogue answer does). */
export const EVENT_CONFIDENCE = 0.95;
/** Hourly points while the experiment is younger than this, daily after (at most 1,000 points). */
const HOURLY_UNTIL_MS = 7 * 86_400_000;

type Results =
  { kind: 'event'; answer: EventResultsAnswer } | { kind: 'metrics'; answer: MetricResultsAnswer };

export function ExperimentPage(props: {
  api: Api;
  experiment: string;
  options: ExperimentOptions;
  summary: ExperimentSummary | undefined;
  /** The listing has loaded and has no such experiment. */
  unlisted: boolean;
  nowMs: number;
  onOptions: (options: ExperimentOptions) => void;
}) {
  const { api, experiment, options } = props;
  const catalogue = usePoll<CatalogueAnswer>('catalogue', (signal) => api.catalogue(signal), 60_000);
  const source = sourceOf(options, catalogue.data, experiment);
  const dimension = source?.kind === 'event' ? undefined : options.dimension;
  // Nothing to ask for an experiment the listing does not have (the 404 page); asked again once it has.
  const requestKey =
    source === undefined || props.unlisted ? null : resultsKey(experiment, source, dimension);
  const results = usePoll<Results>(
    requestKey,
    async (signal) =>
      source?.kind === 'event'
        ? { kind: 'event', answer: await api.eventResults(experiment, source.event as string, signal) }
        : {
            kind: 'metrics',
            answer: await api.metricResults(
              experiment,
              {
                ...(source?.kind === 'metrics' ? { metrics: source.metrics.join(',') } : {}),
                dimension,
              },
              signal,
            ),
          },
    RESULTS_REFRESH_MS,
  );

  const data = results.data;
  const views = useMemo(() => (data === undefined ? undefined : viewsOf(data)), [data]);
  const allViews = views === undefined ? [] : [...views.whole, ...views.byValue.flatMap((v) => v.views)];
  const sequentialAvailable = hasSequential(allViews);
  const figures = shownFigures(options.figures, sequentialAvailable);

  useEffect(() => {
    if (views !== undefined && performance.getEntriesByName('liftstream:results-rendered').length === 0) {
      performance.mark('liftstream:results-rendered');
    }
  }, [views !== undefined]);
  useEffect(() => {
    document.title = `${experiment} · liftstream results`;
  }, [experiment]);

  const notFound =
    props.unlisted ||
    (results.error instanceof ApiError && results.error.code === 'unknown_experiment') ||
    (catalogue.error instanceof ApiError && catalogue.error.code === 'unknown_experiment');
  if (notFound) return <NotFound experiment={experiment} />;

  const set = (next: Partial<ExperimentOptions>) => props.onOptions({ ...options, ...next });
  const variationOrder = data === undefined ? [] : variationsOf(data);
  const choices =
    source === undefined
      ? []
      : source.kind === 'event'
        ? source.event === undefined
          ? []
          : [source.event]
        : source.metrics;
  const over = options.over !== undefined && choices.includes(options.over) ? options.over : choices[0];
  const interval: SeriesInterval = options.interval ?? autoInterval(props.summary, props.nowMs);

  return (
    <article aria-labelledby="page-title" data-experiment={experiment}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">Experiments</a> <span aria-hidden="true">/</span>{' '}
        <span aria-current="page">{experiment}</span>
      </nav>
      <div class="page-head">
        <h1 id="page-title">{experiment}</h1>
        <StatusBadge lastExposureAt={props.summary?.last_exposure_at ?? null} nowMs={props.nowMs} />
        <LiveNote receivedAt={results.receivedAt} />
      </div>
      {catalogue.data !== undefined && source !== undefined && (
        <MetricSource
          catalogue={catalogue.data}
          experiment={experiment}
          source={source}
          options={options}
          onChange={props.onOptions}
        />
      )}
      <ErrorNote error={catalogue.error} stale={catalogue.data !== undefined} />
      {source?.kind === 'event' && source.event === undefined && (
        <p class="empty">
          This project has no metric catalogue yet: enter the name of an event its producers send (a track
          event, such as purchase) to see its conversion, value and count figures.
        </p>
      )}
      <ErrorNote error={results.error} stale={data !== undefined} />
      {data !== undefined && views !== undefined && (
        <>
          <FiguresChoice
            figures={figures}
            available={sequentialAvailable}
            confidence={views.confidence}
            tuning={tuningOf(allViews)}
            onChange={(f) => set({ figures: f })}
          />
          <HealthPanel
            api={api}
            summary={props.summary}
            srm={data.answer.srm}
            multipleExposureUnits={data.answer.multiple_exposure_units}
            lastEventAt={data.answer.last_event_at}
            nowMs={props.nowMs}
          />
          <section class="results card" aria-labelledby="results-h" data-section="results">
            <h2 id="results-h">Results{views.dimension === undefined ? '' : ` by ${views.dimension}`}</h2>
            {views.whole.map((view) => (
              <MetricBlockView key={view.id} view={view} figures={figures} idPrefix="m" />
            ))}
            {views.byValue.map((group, i) => (
              <ValueBlock key={group.value} group={group} index={i} figures={figures} />
            ))}
            {views.whole.length === 0 && views.byValue.length === 0 && (
              <p class="muted">No metrics to show.</p>
            )}
          </section>
        </>
      )}
      {data === undefined && results.error === undefined && requestKey !== null && (
        <p class="muted">Loading results…</p>
      )}
      {over !== undefined && (
        <OverTime
          api={api}
          experiment={experiment}
          choices={choices}
          metric={over}
          interval={interval}
          variations={variationOrder}
          figures={figures}
          cuped={allViews.some((view) => view.id === over && view.cuped !== null)}
          onChange={(metric, nextInterval) => set({ over: metric, interval: nextInterval })}
        />
      )}
    </article>
  );
}

function resultsKey(experiment: string, source: Source, dimension: string | undefined): string | null {
  if (source.kind === 'event')
    return source.event === undefined ? null : `${experiment}\u0000event\u0000${source.event}`;
  return `${experiment}\u0000${source.kind}\u0000${source.metrics.join(',')}\u0000${dimension ?? ''}`;
}

interface ValueGroup {
  value: string;
  units: UnitsOf[];
  srm: SrmBlock;
  multipleExposureUnits: number;
  views: MetricView[];
}

interface Views {
  confidence: number;
  dimension: string | undefined;
  whole: MetricView[];
  byValue: ValueGroup[];
}

function viewsOf(results: Results): Views {
  if (results.kind === 'event') {
    return {
      confidence: EVENT_CONFIDENCE,
      dimension: undefined,
      whole: [eventView(results.answer, EVENT_CONFIDENCE)],
      byValue: [],
    };
  }
  const { answer } = results;
  return {
    confidence: answer.confidence,
    dimension: answer.dimension,
    whole: metricViews(answer.metrics ?? [], answer.confidence),
    byValue: (answer.values ?? []).map((v) => ({
      value: v.value,
      units: v.units,
      srm: v.srm,
      multipleExposureUnits: v.multiple_exposure_units,
      views: metricViews(v.metrics, answer.confidence),
    })),
  };
}

/** Variations in the answer's order with the control first (for colours that stay put). */
function variationsOf(results: Results): string[] {
  const names =
    results.kind === 'event'
      ? results.answer.variations.map((v) => v.variation)
      : results.answer.units.map((u) => u.variation);
  const control = results.answer.control;
  return [control, ...names.filter((n) => n !== control)];
}

/** The sequential tuning parameter the API used (the same for every comparison of an experiment). */
function tuningOf(views: MetricView[]): number | undefined {
  for (const view of views) {
    for (const row of view.rows)
      if (row.sequential?.tuningParameter !== undefined) return row.sequential.tuningParameter;
  }
  return undefined;
}

function autoInterval(summary: ExperimentSummary | undefined, nowMs: number): SeriesInterval {
  const first = summary?.first_exposure_at;
  return first !== null && first !== undefined && nowMs - Date.parse(first) > HOURLY_UNTIL_MS
    ? 'day'
    : 'hour';
}

const FIGURE_CHOICES: [Figures, string][] = [
  ['sequential', 'Sequential (always valid)'],
  ['fixed', 'Fixed-horizon'],
];

/** Which figures are shown and why, with the switch between them. */
function FiguresChoice(props: {
  figures: Figures;
  available: boolean;
  confidence: number;
  tuning: number | undefined;
  onChange: (figures: Figures) => void;
}) {
  const level = formatConfidence(props.confidence);
  const sentence =
    props.figures === 'sequential'
      ? `Showing sequential (always-valid) ${level} intervals and p-values. These results update live, and sequential figures stay valid however often you look, so you may stop as soon as one is significant. Fixed-horizon figures are valid only when read once, at a sample size fixed in advance.`
      : props.available
        ? `Showing fixed-horizon ${level} intervals and p-values: valid only when read once, at a sample size fixed in advance. Looking again and again while the experiment runs makes false positives likelier; the sequential figures (the default) do not have that problem.`
        : `Showing fixed-horizon ${level} intervals and p-values: valid when read once, at a sample size fixed in advance. This stats service does not send sequential (always-valid) figures, so repeated looks at a running experiment overstate significance.`;
  return (
    <div class="figures-choice" data-figures={props.figures}>
      {props.available && (
        <fieldset class="segmented">
          <legend class="sr-only">Figures</legend>
          {FIGURE_CHOICES.map(([value, label]) => (
            <label key={value}>
              <input
                type="radio"
                name="figures"
                value={value}
                checked={props.figures === value}
                onChange={() => props.onChange(value)}
              />
              <span>{label}</span>
            </label>
          ))}
        </fieldset>
      )}
      <p class="figures-note" id="figures-note">
        {sentence}
        {props.figures === 'sequential' && props.tuning !== undefined
          ? ` (Tuning parameter ${props.tuning}.)`
          : ''}
      </p>
    </div>
  );
}

function ValueBlock(props: { group: ValueGroup; index: number; figures: Figures }) {
  const { group } = props;
  const [open, setOpen] = useState(props.index < 3);
  const id = `v${props.index}`;
  return (
    <details
      class="value-block"
      open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
      data-value={group.value}
    >
      <summary>
        <span class="value-name">{group.value}</span>
        <span class="value-units">
          {group.units.map((u) => (
            <span key={u.variation}>
              {u.variation} <Figure name="value-units" value={u.units} text={formatCount(u.units)} />
            </span>
          ))}
        </span>
        <SrmBadge srm={group.srm} alarmBelow={SRM_ALARM_BELOW} />
        <MultipleExposureBadge units={group.multipleExposureUnits} />
      </summary>
      <p class="muted small">
        SRM p-value within this value: {formatPValue(group.srm.p_value)}. Breakdowns are exploratory: no
        correction across values.
      </p>
      {group.views.map((view) => (
        <MetricBlockView key={view.id} view={view} figures={props.figures} idPrefix={id} />
      ))}
    </details>
  );
}

function NotFound(props: { experiment: string }) {
  return (
    <article aria-labelledby="page-title" data-status="404">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">Experiments</a>
      </nav>
      <h1 id="page-title">Experiment not found</h1>
      <p class="notice" role="alert">
        This project has no experiment named “{props.experiment}” (404). Experiments appear once a unit of the
        project has been exposed to them; a key sees only its own project’s experiments.
      </p>
      <p>
        <a href="#/">Back to the experiments</a>
      </p>
    </article>
  );
}
