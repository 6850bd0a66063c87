/**
 * Stand-ins for the SDK's network in unit tests: a transport that records every request body and
 * answers from a script, and the parts of a browser page (document, navigator.sendBeacon) the SDK uses.
 */
import type { IngestResult, SendOutcome, Transport, WireEvent } from '../../sdk/src/index.ts';

/** One request the fake transport saw. */
export interface SentRequest {
  body: string;
  events: WireEvent[];
  /** How the fake answered. */
  outcome: SendOutcome;
}

export type Answer = SendOutcome | ((events: WireEvent[]) => SendOutcome);

/** A 200 answer accepting every event but those at `rejectIndexes`. */
export function ok(events: WireEvent[], rejectIndexes: number[] = []): SendOutcome {
  const result: IngestResult = {
    accepted: events.length - rejectIndexes.length,
    rejected: rejectIndexes.map((index) => ({
      index,
      code: 'invalid_event_name',
      field: 'event',
      message: 'bad name',
    })),
    warnings: [],
    dropped: 0,
  };
  return { kind: 'response', status: 200, retryAfter: null, result };
}

export const status = (code: number, retryAfter: string | null = null): SendOutcome => ({
  kind: 'response',
  status: code,
  retryAfter,
  message: `{"error":{"code":"x","message":"status ${code}"}}`,
});

export const networkError: SendOutcome = { kind: 'network', error: new TypeError('fetch failed') };

/**
 * A transport answering from `script` in order (then 200 for everything), recording each request.
 * `hold()` makes the following requests wait until `release()`.
 */
export function fakeTransport(script: Answer[] = []): {
  transport: Transport;
  requests: SentRequest[];
  /** Every event in every request, in order (with repeats). */
  sentEvents(): WireEvent[];
  hold(): void;
  release(): void;
} {
  const requests: SentRequest[] = [];
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const transport: Transport = async (body, signal) => {
    if (gate) await gate;
    if (signal?.aborted) return { kind: 'network', error: new Error('aborted') };
    const events = (JSON.parse(body) as { batch: WireEvent[] }).batch;
    const next = script.shift() ?? ok;
    const outcome = typeof next === 'function' ? next(events) : next;
    requests.push({ body, events, outcome });
    return outcome;
  };
  return {
    transport,
    requests,
    sentEvents: () => requests.flatMap((r) => r.events),
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open?.();
    },
  };
}

/** A minimal browser page on globalThis: document with visibility, window events, sendBeacon. */
export function fakePage(opts: { acceptBeacon?: (url: string, data: string) => boolean } = {}): {
  beacons: Array<{ url: string; data: string }>;
  hide(): void;
  pagehide(): void;
  uninstall(): void;
} {
  const g = globalThis as Record<string, unknown>;
  const saved = {
    document: g['document'],
    navigator: g['navigator'],
    add: g['addEventListener'],
    remove: g['removeEventListener'],
  };
  const windowListeners = new Map<string, Set<() => void>>();
  const docListeners = new Map<string, Set<() => void>>();
  const target = (map: Map<string, Set<() => void>>) => ({
    addEventListener(type: string, fn: () => void) {
      if (!map.has(type)) map.set(type, new Set());
      map.get(type)?.add(fn);
    },
    removeEventListener(type: string, fn: () => void) {
      map.get(type)?.delete(fn);
    },
  });
  const beacons: Array<{ url: string; data: string }> = [];
  const document = { visibilityState: 'visible', ...target(docListeners) };
  const win = target(windowListeners);
  Object.defineProperty(g, 'navigator', {
    configurable: true,
    value: {
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) FakePage/1.0',
      sendBeacon(url: string, data: string) {
        const accepted = opts.acceptBeacon?.(url, data) ?? true;
        if (accepted) beacons.push({ url, data });
        return accepted;
      },
    },
  });
  g['document'] = document;
  g['addEventListener'] = win.addEventListener;
  g['removeEventListener'] = win.removeEventListener;
  const fire = (map: Map<string, Set<() => void>>, type: string) => {
    for (const fn of map.get(type) ?? []) fn();
  };
  return {
    beacons,
    hide() {
      document.visibilityState = 'hidden';
      fire(docListeners, 'visibilitychange');
    },
    pagehide() {
      fire(windowListeners, 'pagehide');
    },
    uninstall() {
      Object.defineProperty(g, 'navigator', { configurable: true, value: saved.navigator });
      g['document'] = saved.document;
      g['addEventListener'] = saved.add;
      g['removeEventListener'] = saved.remove;
      if (saved.document === undefined) delete g['document'];
      if (saved.add === undefined) delete g['addEventListener'];
      if (saved.remove === undefined) delete g['removeEventListener'];
    },
  };
}
