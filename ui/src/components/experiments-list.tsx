/**
 * The project's experiments: status, units, variations, first and last exposure, the newest counted event,
 * and health badges (the SRM check of each experiment from GET /v1/srm, multiple-exposure units, open
 * alerts as the listing counts them). Live: the listing is polled by the app, the SRM checks here.
 */
import type { Api } from '../api.ts';
import type { ExperimentsAnswer, SrmListAnswer } from '../api-types.ts';
import { formatAgo, formatCount, formatDateTime } from '../format.ts';
import { formatRoute } from '../route.ts';
import { usePoll } from '../use-poll.ts';
import { Age } from './age.tsx';
import { MultipleExposureBadge, OpenAlertsBadge, SrmBadge, StatusBadge } from './badges.tsx';
import { Figure } from './figure.tsx';
import { ErrorNote, LiveNote } from './notes.tsx';

export const LIST_REFRESH_MS = 5_000;

export function ExperimentsList(props: {
  api: Api;
  experiments: ExperimentsAnswer | undefined;
  experimentsError: unknown;
  receivedAt: number | undefined;
  nowMs: number;
}) {
  const srm = usePoll<SrmListAnswer>('srm', (signal) => props.api.srm(signal), LIST_REFRESH_MS);
  const srmOf = new Map(srm.data?.experiments.map((e) => [e.experiment, e]));
  const list = props.experiments?.experiments;

  return (
    <section aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Experiments</h1>
        <LiveNote receivedAt={props.receivedAt} />
      </div>
      <ErrorNote error={props.experimentsError} stale={list !== undefined} />
      {list === undefined ? (
        <p class="muted">Loading experiments…</p>
      ) : list.length === 0 ? (
        <p class="empty">
          No experiments yet. Exposures sent to the gateway show up here within seconds of being processed.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="experiments">
            <caption class="sr-only">
              Experiments of project {props.experiments?.project}, with their status, units and health
            </caption>
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Units
                </th>
                <th scope="col">Variations</th>
                <th scope="col">First exposure</th>
                <th scope="col">Last exposure</th>
                <th scope="col">Newest event</th>
                <th scope="col">Health</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => {
                const check = srmOf.get(e.experiment);
                return (
                  <tr key={e.experiment} data-experiment={e.experiment}>
                    <th scope="row" data-label="Experiment">
                      <a href={formatRoute({ page: 'experiment', experiment: e.experiment, options: {} })}>
                        {e.experiment}
                      </a>
                    </th>
                    <td data-label="Status">
                      <StatusBadge lastExposureAt={e.last_exposure_at} nowMs={props.nowMs} />
                    </td>
                    <td data-label="Units" class="num">
                      <Figure name="units" value={e.units} text={formatCount(e.units)} />
                    </td>
                    <td data-label="Variations">
                      <ul class="inline-list">
                        {e.variations.map((v) => (
                          <li key={v.variation}>
                            {v.variation}{' '}
                            <Figure name="variation-units" value={v.units} text={formatCount(v.units)} />
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td data-label="First exposure">
                      <time dateTime={e.first_exposure_at ?? undefined}>
                        {formatDateTime(e.first_exposure_at)}
                      </time>
                    </td>
                    <td data-label="Last exposure">
                      <time
                        dateTime={e.last_exposure_at ?? undefined}
                        title={formatDateTime(e.last_exposure_at)}
                      >
                        {formatAgo(e.last_exposure_at, props.nowMs)}
                      </time>
                    </td>
                    <td data-label="Newest event">
                      <Age iso={e.last_event_at ?? null} name="last-event-at" />
                    </td>
                    <td data-label="Health" class="health">
                      <div class="badges">
                        <SrmBadge
                          srm={check?.srm}
                          problem={check?.problem}
                          alarmBelow={srm.data?.alarm_below ?? 0.001}
                        />
                        <MultipleExposureBadge units={e.multiple_exposure_units} />
                        <OpenAlertsBadge count={e.open_alerts} byKind={e.open_alerts_by_kind} />
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
