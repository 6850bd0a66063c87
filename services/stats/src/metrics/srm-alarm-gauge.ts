/**
 * `liftstream_stats_srm_alarm{project,experiment}`: 1 while a running experiment's SRM p-value is below
 * 0.001, else 0. Computed when scraped, from one experiments listing per project (the query behind
 * GET /v1/experiments, O(exposure rows of the project)), cached so that scrapes stay cheap and bounded:
 * - at most one refresh per CACHE_MS, whatever the number of scrapers, and one at a time;
 * - a scrape waits at most WAIT_MS for a refresh, then answers with the previous values;
 * - at most MAX_SERIES series (alarming experiments first), whatever experiment names producers send.
 */
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import type { ExperimentSummary } from '../storage/experiments-query.ts';
import { capAlarms, srmAlarms } from './srm-alarms.ts';
import type { SrmAlarm } from './srm-alarms.ts';

/** Age at which cached alarms are recomputed, ms: SRM moves slowly, Prometheus scrapes every 15 s. */
export const CACHE_MS = 60_000;
/** Longest a scrape waits for a refresh, ms: well inside Prometheus's default 10 s scrape timeout. */
export const WAIT_MS = 2_000;
/** Most series the gauge publishes. */
export const MAX_SERIES = 1_000;

export interface SrmAlarmGaugeDeps {
  registry: Registry;
  /** The project catalog (what it reads of it: ids and expected splits). */
  catalog: { projects(): readonly Pick<ProjectSettings, 'id' | 'expectedSplit'>[] };
  /** A project's experiments (listExperiments on the service's ClickHouse client). */
  listExperiments(project: string): Promise<ExperimentSummary[]>;
  logger: Logger;
  /** Wall clock, unix ms (tests move it). */
  now?: () => number;
}

/** Registers the gauge on `deps.registry`. */
export function registerSrmAlarmGauge(deps: SrmAlarmGaugeDeps): void {
  const now = deps.now ?? Date.now;
  let cache: { computedAt: number; alarms: SrmAlarm[] } | null = null;
  let refreshing: Promise<void> | null = null;

  const refresh = async (): Promise<void> => {
    const startedAt = now();
    try {
      const alarms: SrmAlarm[] = [];
      for (const project of deps.catalog.projects()) {
        alarms.push(...srmAlarms(project, await deps.listExperiments(project.id), startedAt));
      }
      if (alarms.length > MAX_SERIES) {
        deps.logger.warn(
          { experiments: alarms.length, published: MAX_SERIES },
          'more running experiments than SRM alarm series; publishing the alarming and most recent ones',
        );
      }
      cache = { computedAt: startedAt, alarms: capAlarms(alarms, MAX_SERIES) };
    } catch (err) {
      // Stored data did not change because ClickHouse is unreachable: keep the last alarms, retry later.
      deps.logger.warn({ err }, 'SRM alarms could not be computed; keeping the previous ones');
      cache = { computedAt: startedAt, alarms: cache?.alarms ?? [] };
    }
  };

  new Gauge({
    name: 'liftstream_stats_srm_alarm',
    help: 'Sample ratio mismatch of a running experiment: 1 when its SRM p-value (as in its results) is below 0.001, else 0',
    labelNames: ['project', 'experiment'] as const,
    registers: [deps.registry],
    async collect() {
      if (cache === null || now() - cache.computedAt >= CACHE_MS) {
        refreshing ??= refresh().finally(() => {
          refreshing = null;
        });
        await waitAtMost(refreshing, WAIT_MS);
      }
      this.reset();
      for (const a of cache?.alarms ?? []) {
        this.set({ project: a.project, experiment: a.experiment }, a.alarm ? 1 : 0);
      }
    },
  });
}

async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
