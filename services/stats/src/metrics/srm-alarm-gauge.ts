/**
 * `liftstream_stats_srm_alarms`: how many running experiments have an SRM p-value below 0.001, and
 * `liftstream_stats_running_experiments`: how many were checked. Counts without labels on purpose:
 * /metrics answers without a key, so it names no project or experiment (a tenant's experiment names are
 * its business; which experiments alarm is in GET /v1/experiments/:e/results, behind a read key). No
 * labels also means a fixed number of series, whatever experiment names producers send.
 * Computed when scraped, from one experiments listing per project (the query behind GET /v1/experiments,
 * O(exposure rows of the project)), cached so that scrapes stay cheap and bounded:
 * - at most one refresh per CACHE_MS, whatever the number of scrapers, and one at a time;
 * - a scrape waits at most WAIT_MS for a refresh, then answers with the previous values.
 */
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { ProjectSettings } from '../../../../shared/projects/project-catalog.ts';
import type { ExperimentSummary } from '../storage/experiments-query.ts';
import { srmAlarms } from './srm-alarms.ts';
import type { SrmAlarm } from './srm-alarms.ts';

/** Age at which cached alarms are recomputed, ms: SRM moves slowly, Prometheus scrapes every 15 s. */
export const CACHE_MS = 60_000;
/** Longest a scrape waits for a refresh, ms: well inside Prometheus's default 10 s scrape timeout. */
export const WAIT_MS = 2_000;

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

/** Registers both gauges on `deps.registry`. */
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
      cache = { computedAt: startedAt, alarms };
    } catch (err) {
      // Stored data did not change because ClickHouse is unreachable: keep the last alarms, retry later.
      deps.logger.warn({ err }, 'SRM alarms could not be computed; keeping the previous ones');
      cache = { computedAt: startedAt, alarms: cache?.alarms ?? [] };
    }
  };

  const fresh = async (): Promise<SrmAlarm[]> => {
    if (cache === null || now() - cache.computedAt >= CACHE_MS) {
      refreshing ??= refresh().finally(() => {
        refreshing = null;
      });
      await waitAtMost(refreshing, WAIT_MS);
    }
    return cache?.alarms ?? [];
  };

  new Gauge({
    name: 'liftstream_stats_srm_alarms',
    help: 'Running experiments (a first exposure within 7 days) whose SRM p-value, as in their results, is below 0.001',
    registers: [deps.registry],
    async collect() {
      this.set((await fresh()).filter((a) => a.alarm).length);
    },
  });
  new Gauge({
    name: 'liftstream_stats_running_experiments',
    help: 'Running experiments (a first exposure within 7 days) checked for sample ratio mismatch',
    registers: [deps.registry],
    async collect() {
      this.set((await fresh()).length);
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
