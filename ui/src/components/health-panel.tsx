/**
 * An experiment's health: status and exposures, freshness (the newest counted event), open alerts, the SRM
 * check (p-value, observed against expected units per variation) and multiple-exposure units, as the
 * results answer and the listing give them; then the project's ingest over the last 24 h (ingest-facts.tsx).
 */
import type { Api } from '../api.ts';
import type { ExperimentSummary, SrmBlock } from '../api-types.ts';
import { formatAgo, formatCount, formatDateTime, formatExpected, formatPValue } from '../format.ts';
import { Age } from './age.tsx';
import { alertKindsText, SrmBadge, StatusBadge } from './badges.tsx';
import { Figure } from './figure.tsx';
import { IngestFacts } from './ingest-facts.tsx';

/** The SRM alarm level of the service (metrics/srm-alarms.ts), as GET /v1/srm states it. */
export const SRM_ALARM_BELOW = 0.001;

export function HealthPanel(props: {
  api: Api;
  summary: ExperimentSummary | undefined;
  srm: SrmBlock;
  multipleExposureUnits: number;
  /** The results answer's `last_event_at` (undefined from a server without it). */
  lastEventAt: string | null | undefined;
  nowMs: number;
}) {
  const { summary, srm } = props;
  // The results answer's, refreshed with the figures; the listing's when the server sends only that.
  const lastEventAt = props.lastEventAt !== undefined ? props.lastEventAt : summary?.last_event_at;
  const openAlerts = summary?.open_alerts;
  const names = [...new Set([...Object.keys(srm.observed), ...Object.keys(srm.expected)])];
  return (
    <section class="health card" aria-labelledby="health-h" data-section="health">
      <h2 id="health-h">Health</h2>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge lastExposureAt={summary?.last_exposure_at ?? null} nowMs={props.nowMs} />
          </dd>
        </div>
        <div>
          <dt>Analysed units</dt>
          <dd>
            {summary === undefined ? (
              '…'
            ) : (
              <Figure name="total-units" value={summary.units} text={formatCount(summary.units)} />
            )}
          </dd>
        </div>
        <div>
          <dt>First exposure</dt>
          <dd>{formatDateTime(summary?.first_exposure_at ?? null)}</dd>
        </div>
        <div>
          <dt>Last exposure</dt>
          <dd title={formatDateTime(summary?.last_exposure_at ?? null)}>
            {formatAgo(summary?.last_exposure_at ?? null, props.nowMs)}
          </dd>
        </div>
        {lastEventAt !== undefined && (
          <div>
            <dt>Newest counted event</dt>
            <dd>
              <Age iso={lastEventAt} name="last-event-at" />
            </dd>
          </div>
        )}
        {openAlerts !== undefined && (
          <div>
            <dt>Open alerts</dt>
            <dd class={openAlerts > 0 ? 'warn-text' : undefined}>
              <Figure name="open-alerts" value={openAlerts} text={formatCount(openAlerts)} />
              {openAlerts > 0 && <span class="sub"> {alertKindsText(summary?.open_alerts_by_kind)}</span>}
            </dd>
          </div>
        )}
        <div>
          <dt>Sample ratio</dt>
          <dd>
            <SrmBadge srm={srm} alarmBelow={SRM_ALARM_BELOW} />
          </dd>
        </div>
        <div>
          <dt>Multiple-exposure units</dt>
          <dd class={props.multipleExposureUnits > 0 ? 'warn-text' : undefined}>
            <Figure
              name="multiple-exposure"
              value={props.multipleExposureUnits}
              text={formatCount(props.multipleExposureUnits)}
            />
            {props.multipleExposureUnits > 0 && <span class="sub"> left out of every variation</span>}
          </dd>
        </div>
      </dl>
      <div class="table-wrap">
        <table class="srm">
          <caption>
            Split check: SRM p-value{' '}
            <Figure name="srm-p-value" value={srm.p_value} text={formatPValue(srm.p_value)} /> (chi-square of
            observed against expected units; below {SRM_ALARM_BELOW} the split is off)
          </caption>
          <thead>
            <tr>
              <th scope="col">Variation</th>
              <th scope="col" class="num">
                Observed units
              </th>
              <th scope="col" class="num">
                Expected units
              </th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => (
              <tr key={name} data-variation={name}>
                <th scope="row">{name}</th>
                <td class="num">
                  <Figure
                    name="srm-observed"
                    value={srm.observed[name] ?? null}
                    text={formatCount(srm.observed[name] ?? null)}
                  />
                </td>
                <td class="num">
                  <Figure
                    name="srm-expected"
                    value={srm.expected[name] ?? null}
                    text={formatExpected(srm.expected[name] ?? null)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <IngestFacts api={props.api} />
    </section>
  );
}
