/**
 * The project's ingest over the last 24 h (GET /v1/ingest/summary): events accepted, rejected (with the
 * most frequent codes) and dropped as bots, and a plain sentence when no gateway has reported yet. Polled
 * on its own, slower than the results: these counts move with traffic, not with each figure.
 */
import { ApiError } from '../api.ts';
import type { Api } from '../api.ts';
import type { IngestSummaryAnswer } from '../api-types.ts';
import { formatCount } from '../format.ts';
import { formatTopCodes, INGEST_HOURS, ingestHealth } from '../ingest-health.ts';
import { usePoll } from '../use-poll.ts';
import { Age } from './age.tsx';
import { Figure } from './figure.tsx';
import { ErrorNote } from './notes.tsx';

export const INGEST_REFRESH_MS = 10_000;

export function IngestFacts(props: { api: Api }) {
  const summary = usePoll<IngestSummaryAnswer>(
    'ingest-summary',
    (signal) => props.api.ingestSummary(INGEST_HOURS, signal),
    INGEST_REFRESH_MS,
  );
  const heading = <h3 id="ingest-h">Ingest, last {INGEST_HOURS} h (whole project)</h3>;
  if (summary.data === undefined) {
    // A stats service without the route answers 404: say so once instead of a retrying error.
    const missing = summary.error instanceof ApiError && summary.error.status === 404;
    return (
      <div class="ingest" aria-labelledby="ingest-h" data-ingest={missing ? 'unavailable' : 'loading'}>
        {heading}
        {missing ? (
          <p class="muted small">This stats service does not report ingest counts (bot drops, rejections).</p>
        ) : summary.error === undefined ? (
          <p class="muted small">Loading ingest counts…</p>
        ) : (
          <ErrorNote error={summary.error} stale={false} />
        )}
      </div>
    );
  }
  const health = ingestHealth(summary.data);
  return (
    <div class="ingest" aria-labelledby="ingest-h" data-ingest={health.reported ? 'reported' : 'none'}>
      {heading}
      <ErrorNote error={summary.error} stale />
      {!health.reported ? (
        <p class="notice" data-ingest-note>
          No gateway report in the last 24 h: gateways report only when they counted an event of this project,
          so either nothing was sent to it, or no gateway of this deployment has reported yet.
        </p>
      ) : (
        <dl class="facts">
          <div>
            <dt>Accepted</dt>
            <dd>
              <Figure name="ingest-accepted" value={health.accepted} text={formatCount(health.accepted)} />
            </dd>
          </div>
          <div>
            <dt>Rejected</dt>
            <dd class={health.rejected > 0 ? 'warn-text' : undefined}>
              <Figure name="ingest-rejected" value={health.rejected} text={formatCount(health.rejected)} />
              {health.rejected > 0 && (
                <span class="sub" data-field="ingest-top-codes">
                  {' '}
                  {formatTopCodes(health, formatCount)}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Dropped as bots</dt>
            <dd>
              <Figure
                name="ingest-bot-dropped"
                value={health.botDropped}
                text={formatCount(health.botDropped)}
              />
            </dd>
          </div>
          <div>
            <dt>Last gateway report</dt>
            <dd>
              <Age iso={health.lastReportAt} name="ingest-last-report" />
              <span class="sub">
                {' '}
                from{' '}
                <Figure
                  name="ingest-gateways"
                  value={health.gateways}
                  text={formatCount(health.gateways)}
                />{' '}
                gateway{health.gateways === 1 ? '' : 's'}
              </span>
            </dd>
          </div>
        </dl>
      )}
    </div>
  );
}
