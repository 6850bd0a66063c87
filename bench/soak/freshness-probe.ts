/**
 * End-to-end freshness (issues 7 and 19): a probe is one request carrying an exposure and a purchase of a
 * new unit in a project of its own (`soak-probe`, so the query that counts them reads a few rows, not the
 * load's), stamped with its send time and its gateway acknowledgement. A probe is visible once the
 * results (GET /v1/experiments/probe/results) count its unit and its conversion. The results request is
 * three queries, and embedded ClickHouse runs one query at a time beside the sink's inserts, so polling it
 * every few milliseconds would slow what it measures (seen: 100–400 ms per request under load, and a
 * sink starved by the polls). So, while a probe is outstanding, the light experiments listing (one query)
 * is polled every POLL_MS; when it counts more units, the results are asked at once (and every POLL_MS
 * until they count the conversions too). When the count rises from a to b, probes a+1..b (in send order)
 * are taken to have become visible in that results request: over-estimated by up to POLL_MS plus a
 * listing, slightly mis-assigned if probes overtake each other. The final counts must equal the probes
 * the gateway accepted: a second exact check.
 *
 * The per-stage split comes from probe-watcher.ts (when the probe's records appear in Kafka) and
 * freshness-split.ts.
 */
import type { PacedRequest } from '../lib/paced-load.ts';

export const PROBE_PROJECT = 'soak-probe';
export const PROBE_EXPERIMENT = 'probe';
export const PROBE_METRIC = 'purchase';
/** Events in one probe request (an exposure and a purchase). */
export const PROBE_EVENTS = 2;
/** Poll period while a probe is outstanding, ms: the resolution of "visible". */
export const POLL_MS = 50;

/** A probe request. */
export interface ProbeRequest extends PacedRequest {
  kind: 'probe';
  n: number;
}

/** Wall-clock times (Date.now(), ms) of one probe; undefined until known. */
export interface ProbeTimes {
  sentAt: number;
  ackAt?: number;
  /** The poll that first counted it: when it was sent and when it was answered. */
  pollStartAt?: number;
  visibleAt?: number;
}

/** Units of the probe experiment in the experiments listing; null when absent or no answer. */
export async function probeListedUnits(statsUrl: string, readKey: string): Promise<number | null> {
  const res = await fetch(`${statsUrl}/v1/experiments`, {
    headers: { authorization: `Bearer ${readKey}` },
    signal: AbortSignal.timeout(5_000),
  }).catch(() => null);
  if (res === null || !res.ok) return null;
  const body = (await res.json()) as { experiments: { experiment: string; units: number }[] };
  return body.experiments.find((e) => e.experiment === PROBE_EXPERIMENT)?.units ?? null;
}

/** The probe experiment as the results show it: units and converted units over its variations; null when absent. */
export async function probeCounts(
  statsUrl: string,
  readKey: string,
): Promise<{ units: number; conversions: number } | null> {
  const url = `${statsUrl}/v1/experiments/${PROBE_EXPERIMENT}/results?metric=${PROBE_METRIC}&control=control`;
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${readKey}` },
    signal: AbortSignal.timeout(5_000),
  }).catch(() => null);
  if (res === null || !res.ok) return null;
  const body = (await res.json()) as { variations: { units: number; conversions: number }[] };
  let units = 0;
  let conversions = 0;
  for (const v of body.variations) {
    units += v.units;
    conversions += v.conversions;
  }
  return { units, conversions };
}

export class FreshnessProbe {
  /** Probes answered 200 with both events accepted. */
  accepted = 0;
  /** Every probe so far, by number. */
  readonly probes: ProbeTimes[] = [];
  private visible = 0;
  private fresh: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** The listing counted more units than are visible: ask the results until they count them. */
  private confirming = false;

  constructor(
    private readonly statsUrl: string,
    private readonly keys: { write: string; read: string },
  ) {}

  /** The next probe, stamped now. */
  request(): ProbeRequest {
    const n = this.probes.length;
    const now = Date.now();
    this.probes.push({ sentAt: now });
    const user = `probe-${n}`;
    const batch = [
      {
        type: 'exposure',
        user_id: user,
        experiment: PROBE_EXPERIMENT,
        variation: n % 2 === 0 ? 'control' : 'treatment',
        timestamp: now,
        message_id: `${user}-e`,
      },
      {
        type: 'track',
        user_id: user,
        event: PROBE_METRIC,
        value: 1,
        timestamp: now,
        message_id: `${user}-t`,
      },
    ];
    return {
      kind: 'probe',
      n,
      path: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.keys.write}` },
      body: JSON.stringify({ batch }),
    };
  }

  /** Counts a probe's answer (`accepted` from the gateway's 200 body); `at` is when it came. */
  answered(n: number, accepted: number, at = Date.now()): void {
    const probe = this.probes[n];
    if (probe === undefined || accepted !== PROBE_EVENTS) return;
    probe.ackAt = at;
    this.accepted += 1;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Gateway ack → visible of the probes seen since the last call, ms. */
  take(): number[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** Probes acknowledged and not yet visible. */
  outstanding(): number {
    return this.accepted - this.visible;
  }

  private async poll(): Promise<void> {
    // Nothing to look for, or the stats service is slow to answer: skip a beat rather than pile up.
    if (this.polling || this.visible >= this.probes.length) return;
    this.polling = true;
    try {
      if (!this.confirming) {
        const listed = await probeListedUnits(this.statsUrl, this.keys.read);
        if (listed === null || listed <= this.visible) return;
        this.confirming = true;
      }
      const pollStartAt = Date.now();
      const counts = await probeCounts(this.statsUrl, this.keys.read);
      const now = Date.now();
      if (counts === null) return;
      const seen = Math.min(counts.units, counts.conversions, this.probes.length);
      if (seen >= counts.units) this.confirming = false;
      for (; this.visible < seen; this.visible++) {
        const probe = this.probes[this.visible] as ProbeTimes;
        probe.pollStartAt = pollStartAt;
        probe.visibleAt = now;
        if (probe.ackAt !== undefined) this.fresh.push(now - probe.ackAt);
      }
    } finally {
      this.polling = false;
    }
  }
}
