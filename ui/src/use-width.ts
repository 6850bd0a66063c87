/** The rendered width of an element, px, kept up to date (charts are drawn to it). */
import { useEffect, useState } from 'preact/hooks';
import type { RefObject } from 'preact';

export function useWidth(ref: RefObject<HTMLElement | null>, fallback = 600): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    setWidth(Math.round(el.clientWidth) || fallback);
    const observer = new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref.current]);
  return width;
}
