/**
 * Where the SDK meets its runtime: the browser's page lifecycle (flush by beacon when the page is
 * hidden or unloaded) and Node's exit (flush before the event loop ends). Browser and Node objects are
 * reached through globalThis and typed here, so the SDK compiles and bundles without the DOM or Node
 * libraries and runs in either.
 */
import type { SendBeacon } from './beacon-transport.ts';

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

interface RuntimeGlobals {
  navigator?: { sendBeacon?: SendBeacon; userAgent?: string };
  document?: EventTargetLike & { visibilityState?: string };
  addEventListener?: EventTargetLike['addEventListener'];
  removeEventListener?: EventTargetLike['removeEventListener'];
  process?: {
    versions?: { node?: string };
    on?(event: 'beforeExit', listener: () => void): void;
    removeListener?(event: 'beforeExit', listener: () => void): void;
  };
}

const runtime = globalThis as unknown as RuntimeGlobals;

/** True in a browser page (a document to watch), false in Node, workers and other servers. */
export function isBrowserPage(): boolean {
  return typeof runtime.document === 'object' && typeof runtime.addEventListener === 'function';
}

/** navigator.sendBeacon bound to its navigator, or undefined where there is none. */
export function beaconApi(): SendBeacon | undefined {
  const nav = runtime.navigator;
  return nav && typeof nav.sendBeacon === 'function' ? nav.sendBeacon.bind(nav) : undefined;
}

/** The browser's user agent (the gateway drops known bots by it), or undefined outside a page. */
export function pageUserAgent(): string | undefined {
  return isBrowserPage() ? runtime.navigator?.userAgent : undefined;
}

/**
 * Calls `onHide` when the page is hidden (tab switched, app backgrounded: on mobile often the last
 * moment a page gets) and on `pagehide` (navigation, close, back-forward cache). Returns the unsubscribe.
 */
export function onPageHide(onHide: () => void): () => void {
  const doc = runtime.document;
  if (!isBrowserPage() || doc === undefined) return () => undefined;
  const onVisibility = (): void => {
    if (doc.visibilityState === 'hidden') onHide();
  };
  doc.addEventListener('visibilitychange', onVisibility);
  runtime.addEventListener?.('pagehide', onHide);
  return () => {
    doc.removeEventListener('visibilitychange', onVisibility);
    runtime.removeEventListener?.('pagehide', onHide);
  };
}

/**
 * Calls `onExit` each time a Node process's event loop runs empty ('beforeExit': the SDK's own
 * timers never keep a process alive, so this is where a script that is done gets its events out;
 * work `onExit` starts keeps the process up until it ends). Not called on process.exit() or on a
 * signal: call close() there. Returns the unsubscribe.
 */
export function onNodeExit(onExit: () => void): () => void {
  const proc = runtime.process;
  if (!proc?.versions?.node || typeof proc.on !== 'function' || isBrowserPage()) return () => undefined;
  proc.on('beforeExit', onExit);
  return () => proc.removeListener?.('beforeExit', onExit);
}

/** A timer that does not keep a Node process alive (browsers' timers never do). */
export function backgroundTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
