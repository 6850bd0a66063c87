/**
 * What a request adds to its project's ingest report (the results page's ingest health): counted once, when the
 * answer is final. A batch Kafka refused (503) counts nothing, because the client resends all of it.
 */
import { describe, expect, it } from 'vitest';
import { ProduceFailure } from '../../../../services/gateway/src/transport/batch-coalescer.ts';
import type { IngestOutcomeRecorder } from '../../../../services/gateway/src/ingest-reports/outcome-ledger.ts';
import { APP_KEYS, buildTestApp, trackEvent } from '../../../helpers/gateway-app.ts';

/** Counts per project and outcome ("shop accepted", "shop rejected invalid_type", ...). */
function recordingOutcomes(): { recorder: IngestOutcomeRecorder; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  return {
    counts,
    recorder: {
      accepted: (project, n) => add(`${project} accepted`, n),
      rejected: (project, code, n) => add(`${project} rejected ${code}`, n),
      dropped: (project, reason, n) => add(`${project} dropped ${reason}`, n),
    },
  };
}

const batch = {
  batch: [
    trackEvent('u-1'),
    { type: 'track', user_id: 'u-2', event: 'purchase', value: 'five' },
    { ...trackEvent('u-3'), context: { user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' } },
  ],
};

describe('ingest outcomes per project', () => {
  it('counts a refused batch not at all, and its successful resend once', async () => {
    const { recorder, counts } = recordingOutcomes();
    let kafkaUp = false;
    const { app } = await buildTestApp({
      outcomes: recorder,
      submit: () => {
        if (!kafkaUp) throw new ProduceFailure('timeout', 'no acknowledgement within 2000 ms');
      },
    });
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: `Bearer ${APP_KEYS.shopWrite}`, 'content-type': 'application/json' },
        payload: batch,
      });
    const refused = await send();
    expect(refused.statusCode, refused.body).toBe(503);
    expect([...counts], 'nothing final yet').toEqual([]);

    kafkaUp = true;
    const accepted = await send();
    expect(accepted.statusCode, accepted.body).toBe(200);
    const rejectedCodes = (accepted.json() as { rejected: { code: string }[] }).rejected.map((r) => r.code);
    expect(rejectedCodes).toHaveLength(1);
    expect(Object.fromEntries(counts)).toEqual({
      'shop accepted': 1,
      [`shop rejected ${rejectedCodes[0]}`]: 1,
      'shop dropped bot': 1,
    });
    await app.close();
  });
});
