/**
 * An experiment's health: status and exposures, the SRM check (p-value, observed against expected units
 * per variation) and multiple-exposure units, as the results answer gives them.
 */
import type { ExperimentSummary, SrmBlock } from '../api-types.ts';
import { formatAgo, formatCount, formatDateTime, formatExpected, formatPValue } from '../format.ts';
import { SrmBadge, StatusBadge } from './badges.tsx';
import { Figure } from './figure.tsx';

/** The SRM alarm level of the service (metrics/srm-alarms.ts), as GET /v1/srm states it. */
export const SRM_ALARM_BELOW = 0.001;

export function HealthPanel(props: {
  summary: ExperimentSummary | undefined;
  srm: SrmBlock;
  multipleExposureUnits: number;
  nowMs: number;
}) {
  const { summary, srm } = props;
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
      <p class="muted small">
        Bot drops, rejected events and data freshness are not reported by the stats API yet.
      </p>
    </section>
  );
}
