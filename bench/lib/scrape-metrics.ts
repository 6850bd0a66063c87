/**
 * Reads a Prometheus text endpoint into a map from series (name with its labels, as printed, e.g.
 * `liftstream_processor_state_keys{store="units"}`) to value; empty when the endpoint does not answer
 * within 3 s.
 */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const text = await fetch(url, { signal: AbortSignal.timeout(3_000) })
    .then((r) => r.text())
    .catch(() => '');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/**
 * The sum of every series of metric `name` (with or without labels) whose labels contain each of
 * `labelFilters` (e.g. `result="commit"`); 0 when none does.
 */
export function sumSeries(
  metrics: ReadonlyMap<string, number>,
  name: string,
  ...labelFilters: string[]
): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (labelFilters.every((filter) => series.includes(filter))) sum += value;
  }
  return sum;
}
