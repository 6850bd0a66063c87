/**
 * End-to-end freshness: about once a second one request carries a single exposure of a new unit in a
 * project of its own (`soak-probe`, so the stats query that counts them reads a few rows, not the
 * soak's), stamped with its send time; the stats service is polled every POLL_MS for that project's
 * analysed units. When the count rises from a to b, probes a+1..b (in send order) are taken to have
 * become visible then: freshness = visible − sent, gateway → Kafka → processor → sink → ClickHouse →
 * stats API, over-estimated by up to POLL_MS and slightly mis-assigned if probes overtake each other.
 * The final count must also equal the probes the gateway accepted: a second exact check.
 */
import type { PacedRequest } from '../lib/paced-load.ts';

export const PROBE_PROJECT = 'soak-probe';
export const PROBE_EXPERIMENT = 'probe';
const POLL_MS = 500;

/** A probe request (one exposure). */
export interface ProbeRequest extends PacedRequest {
  kind: 'probe';
}

/** Analysed units of the probe experiment in the stats service; null when it has none yet or does not answer. */
export async function probeUnits(statsUrl: string, readKey: string): Promise<number | null> {
  const res = await fetch(`${statsUrl}/v1/experiments`, {
    headers: { authorization: `Bearer ${readKey}` },
    signal: AbortSignal.timeout(5_000),
  }).catch(() => null);
  if (res === null || !res.ok) return null;
  const body = (await res.json()) as { experiments: { experiment: string; units: number }[] };
  return body.experiments.find((e) => e.experiment === PROBE_EXPERIMENT)?.units ?? null;
}

export class FreshnessProbe {
  /** Probes answered 200 with the event accepted. */
  accepted = 0;
  /** Every freshness sample so far, ms. */
  readonly all: number[] = [];
  private readonly sentAt: number[] = [];
  private visible = 0;
  private fresh: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly statsUrl: string,
    private readonly keys: { write: string; read: string },
  ) {}

  /** The next probe, stamped now. */
  request(): ProbeRequest {
    const n = this.sentAt.length;
    const now = Date.now();
    this.sentAt.push(now);
    const event = {
      type: 'exposure',
      user_id: `probe-${n}`,
      experiment: PROBE_EXPERIMENT,
      variation: n % 2 === 0 ? 'control' : 'treatment',
      timestamp: now,
      message_id: `probe-${n}`,
    };
    return {
      kind: 'probe',
      path: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.keys.write}` },
      body: JSON.stringify({ batch: [event] }),
    };
  }

  /** Counts a probe's answer (`accepted` from the gateway's 200 body). */
  answered(accepted: number): void {
    this.accepted += accepted;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Samples since the last call, ms. */
  take(): number[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // the stats service is slow to answer: skip a beat rather than pile up
    this.polling = true;
    try {
      const units = await probeUnits(this.statsUrl, this.keys.read);
      const now = Date.now();
      for (; units !== null && this.visible < Math.min(units, this.sentAt.length); this.visible++) {
        const age = now - (this.sentAt[this.visible] as number);
        this.fresh.push(age);
        this.all.push(age);
      }
    } finally {
      this.polling = false;
    }
  }
}
