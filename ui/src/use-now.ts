/**
 * The clock, re-read every `intervalMs` while mounted: for ages shown to the second ("4 s ago") without
 * re-rendering the whole page (the app's own clock ticks every 15 s).
 */
import { useEffect, useState } from 'preact/hooks';

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
