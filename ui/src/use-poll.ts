/**
 * Live figures by polling: load at once, then every `intervalMs` while the tab is visible (a hidden tab
 * asks nothing; showing it again refreshes at once). A failed refresh keeps the last answer on screen and
 * reports the error beside it, so figures never blink away; a change of `key` (another experiment,
 * metric or dimension) drops the old answer and aborts the request in flight.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  /** The last refresh's failure; cleared by the next success. */
  error: unknown;
  /** When `data` was received, ms since epoch. */
  receivedAt: number | undefined;
  /** Loads again now (after a user action). */
  refresh(): void;
}

export function usePoll<T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
): Polled<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error?: unknown; receivedAt?: number }>({
    key,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => undefined);

  useEffect(() => {
    setState((s) => (s.key === key ? s : { key }));
    if (key === null) return;
    let stopped = false;
    let inFlight: AbortController | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      clearTimeout(timer);
      if (!stopped && document.visibilityState === 'visible') timer = setTimeout(tick, intervalMs);
    };
    const tick = async () => {
      if (stopped || inFlight !== undefined) return;
      const controller = new AbortController();
      inFlight = controller;
      try {
        const data = await loadRef.current(controller.signal);
        if (!stopped) setState({ key, data, receivedAt: Date.now() });
      } catch (error) {
        if (!stopped && !controller.signal.aborted)
          setState((s) => (s.key === key ? { ...s, error } : { key, error }));
      } finally {
        inFlight = undefined;
        schedule();
      }
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') void tick();
      else clearTimeout(timer);
    };
    kick.current = () => void tick();
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, intervalMs]);

  const current = state.key === key ? state : { key };
  return {
    data: current.data,
    error: current.error,
    receivedAt: current.receivedAt,
    refresh: () => kick.current(),
  };
}
