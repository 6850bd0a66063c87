/**
 * One metric: per variation its units, conversions and estimate and, against the control, the lift with
 * its interval, the p-value and the significance in words (under the figures shown: sequential or
 * fixed-horizon; for a CUPED metric, CUPED-adjusted unless the reader switches to unadjusted), then the
 * forest plot of the lifts. A table on wide screens, one card per variation on narrow ones (styles.css).
 * The estimate column is the unadjusted mean either way: it describes the units, the lift compares them.
 */
import { useState } from 'preact/hooks';
import type { Figures } from '../route.ts';
import { CONTROL_VERDICT, CUPED_TEST, comparisonOf, shownAdjustment } from '../figures.ts';
import type { Adjustment, MetricView, RowView } from '../figures.ts';
import {
  formatConfidence,
  formatCount,
  formatEstimate,
  formatInterval,
  formatLift,
  formatPValue,
  formatValue,
  MISSING,
} from '../format.ts';
import { CupedChoice } from './cuped-choice.tsx';
import { Badge, Figure, IntervalFigure } from './figure.tsx';
import { ForestPlot } from './forest-plot.tsx';

const ESTIMATE_HEADING: Record<string, string> = {
  conversion: 'Conversion rate',
  mean: 'Mean per unit',
  count: 'Count per unit',
  ratio: 'Ratio',
};

export function MetricBlockView(props: { view: MetricView; figures: Figures; idPrefix: string }) {
  const { view, figures } = props;
  const id = `${props.idPrefix}-${view.id}`;
  const control = view.rows.find((r) => r.control)?.variation ?? 'control';
  const isEvent = view.rows.some((r) => r.event !== undefined);
  const intervalName = figures === 'sequential' ? 'sequential' : 'fixed-horizon';
  // Kept while the figures refresh in place (the block keeps its key); a new breakdown starts adjusted.
  const [requested, setRequested] = useState<Adjustment | undefined>(undefined);
  const adjustment = shownAdjustment(view, requested);
  const adjusted = adjustment === 'cuped';
  return (
    <section
      class="metric"
      data-metric={view.id}
      data-adjustment={view.cuped === null ? undefined : adjustment}
      aria-labelledby={`${id}-h`}
    >
      <div class="metric-head">
        <h3 id={`${id}-h`}>{view.id}</h3>
        {view.guardrail && <Badge tone="neutral">Guardrail</Badge>}
        {view.direction === 'decrease' && <Badge tone="neutral">Lower is better</Badge>}
      </div>
      <p class="definition">
        {view.definition}. {formatConfidence(view.confidence)} {intervalName} intervals; p-values by{' '}
        {adjusted ? CUPED_TEST : view.test}.
      </p>
      {view.cuped !== null && (
        <CupedChoice
          id={id}
          metric={view.id}
          cuped={view.cuped}
          reductions={view.rows
            .filter((r) => !r.control)
            .map((r) => ({ variation: r.variation, value: r.cuped?.varianceReduction ?? null }))}
          adjustment={adjustment}
          onChange={setRequested}
        />
      )}
      <div class="table-wrap">
        <table class="figures">
          <caption class="sr-only">
            {view.id}: per variation, and against {control}
            {adjusted ? ' (CUPED-adjusted lift, interval and p-value)' : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Variation</th>
              <th scope="col" class="num">
                Units
              </th>
              <th scope="col" class="num">
                {view.type === 'conversion' ? 'Conversions' : 'Units with events'}
              </th>
              <th scope="col" class="num">
                {ESTIMATE_HEADING[view.type] ?? 'Estimate'}
              </th>
              {isEvent && (
                <th scope="col" class="num">
                  Value per unit
                </th>
              )}
              <th scope="col" class="num">
                {adjusted ? 'CUPED lift' : 'Lift'}
              </th>
              <th scope="col" class="num">
                {formatConfidence(view.confidence)} interval
              </th>
              <th scope="col" class="num">
                p-value
              </th>
              <th scope="col">Significance</th>
            </tr>
          </thead>
          <tbody>
            {view.rows.map((row) => (
              <Row
                key={row.variation}
                row={row}
                view={view}
                figures={figures}
                adjustment={adjustment}
                isEvent={isEvent}
              />
            ))}
          </tbody>
        </table>
      </div>
      {view.rows.length > 1 && (
        <ForestPlot
          id={`${id}-forest`}
          title={`${view.id}: ${adjusted ? 'CUPED-adjusted ' : ''}lift against ${control} with its ${formatConfidence(view.confidence)} ${intervalName} interval`}
          rows={view.rows
            .filter((r) => !r.control)
            .map((r) => {
              const c = comparisonOf(r, figures, adjustment);
              return {
                label: r.variation,
                lift: c?.lift ?? null,
                ci: c?.ci ?? null,
                kind: c?.verdict.kind ?? 'none',
              };
            })}
        />
      )}
    </section>
  );
}

function Row(props: {
  row: RowView;
  view: MetricView;
  figures: Figures;
  adjustment: Adjustment;
  isEvent: boolean;
}) {
  const { row, view } = props;
  const c = comparisonOf(row, props.figures, props.adjustment);
  const verdict = row.control ? CONTROL_VERDICT : (c?.verdict ?? { kind: 'none', words: 'Not enough data' });
  const shownAdjusted = c !== null && c.adjustedP !== null && c.adjustedP !== c.p;
  return (
    <tr data-variation={row.variation} class={row.control ? 'control' : undefined}>
      <th scope="row" data-label="Variation">
        {row.variation}
        {row.control && <span class="muted"> (control)</span>}
      </th>
      <td data-label="Units" class="num">
        <Figure name="units" value={row.units} text={formatCount(row.units)} />
      </td>
      <td data-label={view.type === 'conversion' ? 'Conversions' : 'Units with events'} class="num">
        <Figure name="conversions" value={row.conversions} text={formatCount(row.conversions)} />
      </td>
      <td data-label={ESTIMATE_HEADING[view.type] ?? 'Estimate'} class="num">
        <Figure name="estimate" value={row.estimate} text={formatEstimate(view.type, row.estimate)} />
      </td>
      {props.isEvent && (
        <td data-label="Value per unit" class="num">
          <Figure
            name="value-per-unit"
            value={row.event?.valuePerUnit ?? null}
            text={formatValue(row.event?.valuePerUnit ?? null)}
          />
          {!row.control && row.event !== undefined && row.event.valueLift !== null && (
            <span class="sub">
              {' '}
              <Figure name="value-lift" value={row.event.valueLift} text={formatLift(row.event.valueLift)} />,
              p <Figure name="value-p" value={row.event.valueP} text={formatPValue(row.event.valueP)} />
            </span>
          )}
        </td>
      )}
      <td data-label={props.adjustment === 'cuped' ? 'CUPED lift' : 'Lift'} class="num">
        {row.control ? (
          MISSING
        ) : (
          <Figure name="lift" value={c?.lift ?? null} text={formatLift(c?.lift ?? null)} />
        )}
      </td>
      <td data-label="Interval" class="num">
        {row.control ? (
          MISSING
        ) : (
          <IntervalFigure name="ci" ci={c?.ci ?? null} text={formatInterval(c?.ci ?? null)} />
        )}
      </td>
      <td data-label="p-value" class="num">
        {row.control ? (
          MISSING
        ) : (
          <>
            <Figure name="p" value={c?.p ?? null} text={formatPValue(c?.p ?? null)} />
            {shownAdjusted && (
              <span class="sub">
                {' '}
                (Holm <Figure name="adjusted-p" value={c.adjustedP} text={formatPValue(c.adjustedP)} />)
              </span>
            )}
          </>
        )}
      </td>
      <td data-label="Significance">
        <span class={`verdict verdict-${verdict.kind}`} data-figure="verdict">
          {verdict.words}
        </span>
      </td>
    </tr>
  );
}
