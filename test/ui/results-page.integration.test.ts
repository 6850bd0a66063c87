/**
 * The results page in a real browser (Debian's headless Chromium through playwright-core) against the
 * real pipeline: a seeded scenario posted through the gateway, the page built by scripts/build-ui.mjs and
 * served by the stats service under /ui. Signs in, opens experiments and compares every figure shown with
 * the API's answer to the same request (the `<data value>` the page renders, and its text as the page's
 * formatters write that value); posts a batch and sees the figures change without a reload; checks the
 * charts drew marks, the security headers, that no URL carries the key, a wrong key's message, and that
 * another project's experiment is a 404 page. Health: the open-alerts badges (an experiment with a skewed
 * split raises an SRM alert), the newest counted event's time as the API gives it (its age ticking), and
 * the project's ingest counts. CUPED: the set's two CUPED metrics show the API's adjusted figures (in both
 * figures, and unadjusted one switch away) and its variance reduction. Saves a screenshot of each page in
 * test-results/ui/ and prints the first meaningful paint and the page weight.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_CONTENT_SECURITY_POLICY } from '../../services/stats/src/http/security-headers.ts';
import { UI_CONTENT_SECURITY_POLICY } from '../../services/stats/src/http/ui-routes.ts';
import type {
  EventResultsAnswer,
  ExperimentsAnswer,
  IngestSummaryAnswer,
  MetricBlock,
  MetricResultsAnswer,
  MetricVariation,
  SequentialFigures,
} from '../../ui/src/api-types.ts';
import * as format from '../../ui/src/format.ts';
import { formatTopCodes, ingestHealth } from '../../ui/src/ingest-health.ts';
import { verdictOf } from '../../ui/src/figures.ts';
import { pipelineProjects, postBatch } from '../e2e/e2e-client.ts';
import {
  generateScenario,
  SCENARIO_METRIC_CATALOGUE,
  SCENARIO_METRIC_SET,
} from '../e2e/scenario/scenario-generator.ts';
import type { RawEvent } from '../e2e/scenario/scenario-generator.ts';
import { awaitConverged } from '../helpers/await-converged.ts';
import { DESKTOP_USER_AGENT, launchChromium } from '../helpers/chromium.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { buildUi } from '../helpers/ui-build.ts';

const OUT = path.resolve(import.meta.dirname, '../../test-results/ui');
const SETTLE_TIMEOUT_MS = 60_000;
const PAGE_TIMEOUT_MS = 30_000;
/** Experiments of the scenario's first project: two arms with a metric set, three arms without. */
const TWO_ARMS = 'exp_1';
/** The metric blocks of TWO_ARMS's page: its metric set's goals and guardrails. */
const SET_METRICS = new Set([...SCENARIO_METRIC_SET.metrics, ...SCENARIO_METRIC_SET.guardrails]).size;
/** The set's CUPED metrics (mean and count, lookbacks 14 and 0.1 days): adjusted figures by default. */
const CUPED_METRICS = SCENARIO_METRIC_CATALOGUE.filter((m) => m.cuped !== undefined).map((m) => m.id);
const THREE_ARMS = 'exp_2';
/** An experiment only the second project has. */
const OTHER_PROJECTS = 'p2_only_banner';
/** An experiment of the first project whose units split 40 : 4, far from the equal split: an SRM alert. */
const SKEWED = 'skewed_split';
/** Alerts need a webhook; nothing listens on the discard port, so deliveries fail and are retried: the alert is stored first. */
const ALERT_SECRET_ENV = 'LIFTSTREAM_ALERT_SECRET_UI';

type Figure = { value: string | null; text: string };

/**
 * The browser globals the in-page callbacks use: the test is type-checked without the DOM library (Node's
 * globals), so they are cast to this (casts vanish when playwright sends the callback to the page).
 */
interface BrowserWindow {
  document: {
    querySelector(
      selector: string,
    ): { getAttribute(name: string): string | null; textContent: string | null } | null;
    querySelectorAll(selector: string): { length: number };
    documentElement: { scrollWidth: number };
  };
  scrollTo(x: number, y: number): void;
  scrollY: number;
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  notReloaded?: boolean;
  /** Elements kept before a refresh, to check after it that they were updated in place. */
  kept?: unknown[];
  performance: {
    getEntriesByType(
      type: 'resource' | 'navigation',
    ): { name: string; transferSize: number; startTime: number; duration: number }[];
    getEntriesByName(name: string): { startTime: number }[];
  };
}
type Rows = Record<string, Record<string, Figure>>;

describe('the results page in headless Chromium against the real pipeline', () => {
  let uiDir: string;
  let pipeline: Pipeline;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let project: string;
  let readKey: string;
  const urls: string[] = [];
  const unauthorisedApiCalls: string[] = [];
  const headersByUrl = new Map<string, Record<string, string>>();
  const consoleProblems: string[] = [];

  const ui = () => `${pipeline.statsUrl}/ui/`;
  const api = async <T>(pathAndQuery: string, key = readKey): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${pipeline.statsUrl}${pathAndQuery}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  /** The last request the page made to an API path matching `pattern` (path and query). */
  const lastApiCall = (pattern: RegExp): string => {
    const found = urls
      .map((u) => new URL(u))
      .filter((u) => u.pathname.startsWith('/v1/') && pattern.test(u.pathname + u.search))
      .at(-1);
    if (found === undefined) throw new Error(`the page made no request matching ${pattern}`);
    return found.pathname + found.search;
  };
  const shot = (name: string) => page.screenshot({ path: path.join(OUT, name), fullPage: true });
  /** One element, cut from a full-page screenshot: an element screenshot would have the sticky header over it. */
  const shotOf = async (selector: string, name: string) => {
    const box = await page.locator(selector).evaluate((el) => {
      const r = el.getBoundingClientRect();
      const { scrollX, scrollY } = globalThis as unknown as { scrollX: number; scrollY: number };
      return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height };
    });
    await page.screenshot({ path: path.join(OUT, name), fullPage: true, clip: box });
  };
  /**
   * The health panel's ingest block against GET /v1/ingest/summary?hours=24, the request the page makes: the
   * counts and top rejection codes as the API has them, or the "no report yet" sentence when no gateway has
   * reported. A gateway report may land between the page's poll and ours, so both are read until they
   * agree (the page polls every 10 s), then compared.
   */
  const expectIngestShown = async (on: Page): Promise<IngestSummaryAnswer> => {
    const block = on.locator('[data-section=health] .ingest');
    await on.waitForSelector('[data-section=health] .ingest:is([data-ingest=reported],[data-ingest=none])', {
      timeout: PAGE_TIMEOUT_MS,
    });
    const read = async () => {
      const { status, body } = await api<IngestSummaryAnswer>('/v1/ingest/summary?hours=24');
      expect(status, 'the ingest summary answers').toBe(200);
      const expected =
        body.last_report_at === null
          ? { state: 'none', figures: {}, codes: null }
          : {
              state: 'reported',
              figures: {
                'ingest-accepted': String(body.accepted),
                'ingest-rejected': String(body.rejected.total),
                'ingest-bot-dropped': String(body.dropped.by_reason['bot'] ?? 0),
                'ingest-gateways': String(body.gateways),
              },
              codes:
                body.rejected.total > 0 ? ` ${formatTopCodes(ingestHealth(body), format.formatCount)}` : null,
            };
      const shown = {
        state: await block.getAttribute('data-ingest'),
        figures: await on.$$eval('[data-section=health] .ingest [data-figure]', (els) =>
          Object.fromEntries(els.map((el) => [el.getAttribute('data-figure'), el.getAttribute('value')])),
        ),
        codes: await on
          .locator('[data-section=health] [data-field=ingest-top-codes]')
          .textContent({ timeout: 100 })
          .catch(() => null),
      };
      return { body, expected, shown };
    };
    let seen = await read();
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; seen = await read()) {
      if (JSON.stringify(seen.shown) === JSON.stringify(seen.expected)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(seen.shown, 'ingest health as the API has it').toEqual(seen.expected);
    if (seen.expected.state === 'none') {
      expect(await block.textContent()).toContain('No gateway report in the last 24 h');
    }
    return seen.body;
  };
  /** Waits until the listing counts an open alert of `experiment` (evaluated a second or so after the sink stored it). */
  const openAlertOf = async (experiment: string): Promise<void> => {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const { body } = await api<ExperimentsAnswer>('/v1/experiments');
      if ((body.experiments.find((e) => e.experiment === experiment)?.open_alerts ?? 0) > 0) return;
      if (Date.now() > deadline) throw new Error(`no open alert of ${experiment} in the listing`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    uiDir = buildUi();
    const scenario = generateScenario({ seed: 1717, now: Date.now(), users: 60 });
    const projects = pipelineProjects(scenario).map((p, i) =>
      i === 0
        ? { ...p, alerts: { webhook: { url: 'http://127.0.0.1:9/hooks', secret_env: ALERT_SECRET_ENV } } }
        : p,
    );
    pipeline = await startPipeline({
      kafkaBrokers: inject('kafkaBrokers'),
      registryUrl: inject('registryUrl'),
      clickhouseUrl: inject('clickhouseUrl'),
      projects,
      extraEnv: { STATS_UI_DIR: uiDir, [ALERT_SECRET_ENV]: 'a-secret-of-the-ui-test' },
    });
    const [first, second] = scenario.projects;
    if (first === undefined || second === undefined) throw new Error('the scenario has two projects');
    project = first.id;
    readKey = pipeline.keys[project]?.read as string;
    const posting = scenario.requests.map((r) => postBatch(pipeline, r.project, r.batch));
    posting.push(postBatch(pipeline, second.id, exposures(OTHER_PROJECTS, 'p2-user', 4)));
    posting.push(
      postBatch(
        pipeline,
        project,
        exposures(SKEWED, 'skew-user', 44, (i) => i < 40),
      ),
    );
    await Promise.all(posting);
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      userAgent: DESKTOP_USER_AGENT,
    });
    context.on('request', (request) => {
      urls.push(request.url());
      const { pathname } = new URL(request.url());
      if (pathname.startsWith('/v1/') && request.headers()['authorization'] !== `Bearer ${readKey}`) {
        unauthorisedApiCalls.push(pathname);
      }
    });
    context.on('response', (response) => headersByUrl.set(response.url(), response.headers()));
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[14]/.test(message.text()))
        consoleProblems.push(message.text());
    });
    page.on('pageerror', (error) => consoleProblems.push(error.message));
    await settled(pipeline.statsUrl, readKey);
    await openAlertOf(SKEWED);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
    if (uiDir) fs.rmSync(uiDir, { recursive: true, force: true });
  });

  it('serves the page with a strict CSP and no inline script or style', async () => {
    const res = await fetch(ui());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html, 'every script is a file').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html, 'no inline style').not.toMatch(/<style|\sstyle=/);
  });

  it('says clearly when a key is wrong', async () => {
    await page.goto(ui());
    await page.fill('#read-key', 'lsr_not-a-key-of-any-project');
    await page.click('button[type=submit]');
    const error = page.locator('#read-key-error');
    await error.waitFor({ timeout: PAGE_TIMEOUT_MS });
    expect(await error.textContent()).toContain('This key was not accepted');
    expect(await page.locator('#read-key').getAttribute('aria-invalid')).toBe('true');
    await shot('sign-in-wrong-key.png');
  });

  it("signs in with a read key and lists the project's experiments with the API's numbers", async () => {
    await page.fill('#read-key', readKey);
    await page.click('button[type=submit]');
    await page.locator('table.experiments tbody tr').first().waitFor({ timeout: PAGE_TIMEOUT_MS });
    await page.locator('[data-figure=srm-p]').first().waitFor({ timeout: PAGE_TIMEOUT_MS });
    const { body } = await api<ExperimentsAnswer>('/v1/experiments');
    expect(await page.locator('[data-project]').textContent()).toBe(project);
    const shown = await page.$$eval('table.experiments tbody tr', (rows) =>
      rows.map((tr) => ({
        experiment: tr.getAttribute('data-experiment'),
        units: tr.querySelector('[data-figure=units]')?.getAttribute('value'),
        unitsText: tr.querySelector('[data-figure=units]')?.textContent,
        variations: [...tr.querySelectorAll('[data-figure=variation-units]')].map((d) =>
          d.getAttribute('value'),
        ),
        openAlerts: tr.querySelector('[data-figure=open-alerts]')?.getAttribute('value') ?? null,
        lastEventAt: tr.querySelector('[data-field=last-event-at]')?.getAttribute('datetime') ?? null,
      })),
    );
    expect(shown).toEqual(
      body.experiments.map((e) => ({
        experiment: e.experiment,
        units: String(e.units),
        unitsText: format.formatCount(e.units),
        variations: e.variations.map((v) => String(v.units)),
        // A badge only for experiments with open alerts, showing the listing's count.
        openAlerts: (e.open_alerts ?? 0) > 0 ? String(e.open_alerts) : null,
        lastEventAt: e.last_event_at ?? null,
      })),
    );
    expect(shown.map((e) => e.experiment)).not.toContain(OTHER_PROJECTS);
    const skewed = body.experiments.find((e) => e.experiment === SKEWED);
    expect(skewed?.open_alerts_by_kind, 'the skewed split raised an SRM alert').toMatchObject({ srm: 1 });
    expect(
      await page
        .locator(`tr[data-experiment=${SKEWED}] .badge-bad:has([data-figure=open-alerts])`)
        .textContent(),
    ).toBe('1 open alert');
    expect(
      body.experiments.every((e) => e.last_event_at !== null && e.last_event_at !== undefined),
      'every listed experiment has a counted event',
    ).toBe(true);
    await shot('experiments.png');
  });

  it("opens an experiment and shows exactly the API's figures, with drawn charts", async () => {
    await page.locator(`tr[data-experiment=${TWO_ARMS}] th a`).focus();
    await page.keyboard.press('Enter');
    await waitForResults(page, SET_METRICS);
    const answer = (await api<MetricResultsAnswer>(lastApiCall(new RegExp(`/${TWO_ARMS}/results(\\?|$)`))))
      .body;
    await expectFiguresEqual(page, answer);
    await expectChartsDrawn(page, answer);
    const listing = (await api<ExperimentsAnswer>('/v1/experiments')).body.experiments.find(
      (e) => e.experiment === TWO_ARMS,
    );
    const alerts = page.locator('[data-section=health] [data-figure=open-alerts]');
    expect(await alerts.getAttribute('value'), "the listing's open alerts").toBe(
      String(listing?.open_alerts),
    );
    const ingest = await expectIngestShown(page);
    // The scenario sends bot traffic and invalid events: once reported, the figures are not all zeros.
    if (ingest.last_report_at !== null) {
      expect([ingest.rejected.total > 0, (ingest.dropped.by_reason['bot'] ?? 0) > 0]).toEqual([true, true]);
    }
    await shot('experiment.png');
  });

  it('switches between sequential and fixed-horizon figures when the API sends both', async () => {
    const answer = (await api<MetricResultsAnswer>(lastApiCall(new RegExp(`/${TWO_ARMS}/results(\\?|$)`))))
      .body;
    const sequential = hasSequential(answer.metrics ?? []);
    const choice = page.locator('.figures-choice');
    expect(await choice.getAttribute('data-figures'), 'sequential by default when sent').toBe(
      sequential ? 'sequential' : 'fixed',
    );
    expect(await page.locator('#figures-note').textContent()).toContain(
      sequential ? 'Showing sequential (always-valid)' : 'Showing fixed-horizon',
    );
    if (!sequential) return;
    await page.locator('input[name=figures][value=fixed]').check();
    await page.waitForSelector('.figures-choice[data-figures=fixed]');
    await expectFiguresEqual(page, answer);
  });

  it("shows the CUPED metrics' adjusted lift, interval and p-value in both figures, and the API's variance reduction", async () => {
    expect(CUPED_METRICS, "the scenario's CUPED metrics").toEqual(['revenue_cuped', 'orders_cuped']);
    const answer = (await api<MetricResultsAnswer>(lastApiCall(new RegExp(`/${TWO_ARMS}/results(\\?|$)`))))
      .body;
    const blocks = (answer.metrics ?? []).filter((b) => CUPED_METRICS.includes(b.metric));
    expect(blocks.map((b) => [b.metric, b.cuped?.days])).toEqual([
      ['revenue_cuped', 14],
      ['orders_cuped', 0.1],
    ]);
    for (const b of blocks) {
      // Not vacuous: the API has adjusted figures for the treatment, and they are not the unadjusted ones.
      const treatment = b.variations[1];
      expect(treatment?.cuped?.lift, `${b.metric}: an adjusted lift`).toEqual(expect.any(Number));
      expect(treatment?.cuped?.lift_ci, `${b.metric}: an adjusted interval`).toEqual([
        expect.any(Number),
        expect.any(Number),
      ]);
      expect(treatment?.cuped?.lift_ci, `${b.metric}: not the unadjusted one`).not.toEqual(
        treatment?.lift_ci,
      );
    }
    for (const figures of ['sequential', 'fixed'] as const) {
      await page.locator(`input[name=figures][value=${figures}]`).check();
      await page.waitForSelector(`.figures-choice[data-figures=${figures}]`);
      const rows = await readRows(page, '[data-section=results]');
      for (const b of blocks) {
        const control = b.variations[0]?.variation;
        for (const v of b.variations) {
          if (v.variation === control) continue;
          const c = v.cuped;
          const shown = figures === 'sequential' ? c?.sequential : c;
          const row = rows[`${b.metric}/${v.variation}`];
          const what = `${b.metric}/${v.variation} (${figures})`;
          expect(row?.['lift'], `${what}: adjusted lift`).toEqual(
            figure(c?.lift ?? null, format.formatLift(c?.lift ?? null)),
          );
          expect(row?.['ci'], `${what}: adjusted interval`).toEqual(interval(shown?.lift_ci ?? null));
          expect(row?.['p'], `${what}: adjusted p-value`).toEqual(
            figure(shown?.p_value ?? null, format.formatPValue(shown?.p_value ?? null)),
          );
        }
        expect(await forestDescription(page, b.metric), `${b.metric}: the forest plot (${figures})`).toBe(
          forestDescriptionOf(b, figures, 'cuped'),
        );
      }
      // Every other figure of these blocks, Holm and the words included.
      const expected = expectedRows(blocks, figures, answer.confidence);
      for (const key of Object.keys(expected)) expect(rows[key], key).toEqual(expected[key]);
    }
    for (const b of blocks) {
      const note = page.locator(`[data-metric=${b.metric}] .cuped-note`);
      const shown = await note.evaluate((el) =>
        [...el.querySelectorAll('[data-figure=variance-reduction]')].map((d) => [
          d.closest('[data-variation]')?.getAttribute('data-variation'),
          d.getAttribute('value') || null,
          d.textContent,
        ]),
      );
      expect(shown, `${b.metric}: the API's variance reduction`).toEqual(
        b.variations
          .slice(1)
          .map((v) => [
            v.variation,
            figure(v.cuped?.variance_reduction ?? null, '').value,
            format.formatShare(v.cuped?.variance_reduction ?? null),
          ]),
      );
      const covariate = b.type === 'count' ? '“purchase” events' : '“purchase” value';
      expect(await note.textContent()).toContain(
        `CUPED-adjusted using each unit's ${covariate} in the ${format.formatDays(b.cuped?.days ?? 0)} before its first exposure: variance reduced by`,
      );
    }
    // One block switched to unadjusted (by keyboard: a radio group's arrow key) shows the unadjusted figures; the other stays adjusted.
    const [revenue, orders] = blocks as [MetricBlock, MetricBlock];
    await page.locator(`[data-metric=${revenue.metric}] input[value=cuped]`).focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector(`[data-metric=${revenue.metric}][data-adjustment=unadjusted]`);
    const figures = await shownFigures(page);
    const rows = await readRows(page, '[data-section=results]');
    const unadjusted = expectedRows([revenue], figures, answer.confidence, 'unadjusted');
    expect(
      Object.fromEntries(Object.keys(unadjusted).map((key) => [key, rows[key]])),
      `${revenue.metric}: unadjusted`,
    ).toEqual(unadjusted);
    expect(await forestDescription(page, revenue.metric)).toBe(
      forestDescriptionOf(revenue, figures, 'unadjusted'),
    );
    expect(await page.locator(`[data-metric=${revenue.metric}] .cuped-note`).textContent()).toContain(
      'Lift, interval and p-value are unadjusted.',
    );
    expect(await page.locator(`[data-metric=${orders.metric}]`).getAttribute('data-adjustment')).toBe(
      'cuped',
    );
    await shotOf(`[data-metric=${revenue.metric}]`, 'cuped-unadjusted.png');
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector(`[data-metric=${revenue.metric}][data-adjustment=cuped]`);
    await shotOf(`[data-metric=${revenue.metric}]`, 'cuped-block.png');
  });

  it('changes the figures in place when a new batch arrives: no reload, same elements, same scroll', async () => {
    const inPlace = [
      '[data-section=results]',
      '[data-figure=total-units]',
      '[data-chart=lift-chart] canvas',
      'svg[data-chart=forest]',
    ];
    await page.evaluate((selectors) => {
      const w = globalThis as unknown as BrowserWindow;
      w.notReloaded = true;
      w.kept = selectors.map((s) => w.document.querySelector(s));
      w.scrollTo(0, 300);
    }, inPlace);
    const before = await totalUnits(page);
    await postBatch(pipeline, project, exposures(TWO_ARMS, 'late-user', 6));
    await page.waitForFunction(
      (units) =>
        (globalThis as unknown as BrowserWindow).document
          .querySelector('[data-figure=total-units]')
          ?.getAttribute('value') !== units,
      before,
      { timeout: PAGE_TIMEOUT_MS, polling: 250 },
    );
    expect(Number(await totalUnits(page))).toBe(Number(before) + 6);
    const state = await page.evaluate((selectors) => {
      const w = globalThis as unknown as BrowserWindow;
      return {
        notReloaded: w.notReloaded,
        scrollY: Math.round(w.scrollY),
        sameElements: selectors.map(
          (s, i) => w.kept?.[i] !== null && w.document.querySelector(s) === w.kept?.[i],
        ),
      };
    }, inPlace);
    expect(state).toEqual({ notReloaded: true, scrollY: 300, sameElements: inPlace.map(() => true) });
    await settled(pipeline.statsUrl, readKey);
    await page.waitForTimeout(5_500); // one more refresh after the pipeline settled
    const answer = (await api<MetricResultsAnswer>(lastApiCall(new RegExp(`/${TWO_ARMS}/results(\\?|$)`))))
      .body;
    await expectFiguresEqual(page, answer);
    // The batch's exposures, 5 s before they were sent, are the newest counted events now.
    const freshness = page.locator('[data-section=health] [data-field=last-event-at]');
    expect(answer.last_event_at, 'the results answer has a newest counted event').toEqual(expect.any(String));
    expect(await freshness.getAttribute('datetime'), "the API's timestamp").toBe(answer.last_event_at);
    const age = (await freshness.textContent()) ?? '';
    expect(age, 'an age to the second').toMatch(/^(\d+ s|\d+ min) ago$/);
    await page.waitForFunction(
      (before) =>
        (globalThis as unknown as BrowserWindow).document.querySelector(
          '[data-section=health] [data-field=last-event-at]',
        )?.textContent !== before,
      age,
      { timeout: 3_000, polling: 100 },
    );
  });

  it("breaks the figures down by a declared dimension, each value's block as the API has it", async () => {
    await page.selectOption('#dimension', 'country');
    await page.waitForSelector('details.value-block [data-metric]', { timeout: PAGE_TIMEOUT_MS });
    const answer = (await api<MetricResultsAnswer>(lastApiCall(/dimension=country/))).body;
    const first = answer.values?.[0];
    expect(first, 'at least one country').toBeDefined();
    const scope = `details.value-block[data-value="${first?.value}"]`;
    expect(await readRows(page, scope)).toEqual(
      expectedRows(first?.metrics ?? [], await shownFigures(page), answer.confidence),
    );
    await shot('experiment-by-country.png');
    await page.selectOption('#dimension', '');
  });

  it('shows one event’s figures when asked', async () => {
    await page.selectOption('#source', 'event');
    await page.fill('#event-name', 'purchase');
    await page.click('.event-form button[type=submit]');
    await page.waitForSelector('[data-metric=purchase] [data-figure=value-per-unit]', {
      timeout: PAGE_TIMEOUT_MS,
    });
    const answer = (await api<EventResultsAnswer>(lastApiCall(/\/results\?metric=purchase/))).body;
    const figures = await shownFigures(page);
    const rows = await readRows(page, '[data-section=results]');
    for (const v of answer.variations) {
      const row = rows[`purchase/${v.variation}`];
      // The page's answer and this second request are two runs of the same query: ClickHouse may sum the
      // values in another order, so the last digit of a float can differ (seen in CI: …923 vs …926).
      expectSameFigure(
        row?.['estimate'],
        figure(v.conversion_rate, format.formatEstimate('conversion', v.conversion_rate)),
        `${v.variation} estimate`,
      );
      expectSameFigure(
        row?.['value-per-unit'],
        figure(v.value_per_unit, format.formatValue(v.value_per_unit)),
        `${v.variation} value per unit`,
      );
      if (v.variation === answer.control) continue;
      const c = figures === 'sequential' && v.sequential ? { ...v.sequential, lift: v.lift } : v;
      expect(row?.['lift']).toEqual(figure(v.lift, format.formatLift(v.lift)));
      expect(row?.['ci']).toEqual(interval(c.lift_ci));
      expect(row?.['p']).toEqual(figure(c.p_value, format.formatPValue(c.p_value)));
    }
    await page.selectOption('#source', 'set');
  });

  it('draws 3 variations × 5 metrics, and reports first meaningful paint and page weight', async () => {
    const metrics = SCENARIO_METRIC_CATALOGUE.slice(0, 5).map((m) => m.id);
    // A fresh context: empty cache, so the weight is what a first visit downloads.
    const fresh = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      userAgent: DESKTOP_USER_AGENT,
    });
    fresh.on('request', (request) => urls.push(request.url()));
    await fresh.addInitScript(
      (key) => (globalThis as unknown as BrowserWindow).sessionStorage.setItem('liftstream.readKey', key),
      readKey,
    );
    const cold = await fresh.newPage();
    await cold.goto(`${ui()}#/experiments/${THREE_ARMS}?metrics=${metrics.join(',')}`);
    await waitForResults(cold, 5);
    await cold.waitForSelector('[data-chart=units-chart] canvas', { timeout: PAGE_TIMEOUT_MS });
    const answer = (
      await api<MetricResultsAnswer>(lastApiCall(new RegExp(`/${THREE_ARMS}/results\\?metrics=`)))
    ).body;
    expect(answer.metrics?.map((m) => m.variations.length)).toEqual([3, 3, 3, 3, 3]);
    await expectFiguresEqual(cold, answer);
    const timing = await cold.evaluate(() => {
      const performance = (globalThis as unknown as BrowserWindow).performance;
      const entries = performance.getEntriesByType('resource');
      const navigation = performance.getEntriesByType('navigation')[0] ?? { transferSize: 0 };
      const api = entries.filter((e) => new URL(e.name).pathname.startsWith('/v1/'));
      const assets = entries.filter((e) => !new URL(e.name).pathname.startsWith('/v1/'));
      const sum = (list: { transferSize: number }[]) => list.reduce((n, e) => n + e.transferSize, 0);
      return {
        meaningfulPaintMs: performance.getEntriesByName('liftstream:results-rendered')[0]?.startTime ?? -1,
        firstContentfulPaintMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
        appStartMs: performance.getEntriesByName('liftstream:app-start')[0]?.startTime ?? -1,
        staticBytes: navigation.transferSize + sum(assets),
        apiBytes: sum(api),
        results: entries
          .filter((e) => e.name.includes('/results?metrics='))
          .map((e) => `${Math.round(e.startTime)}-${Math.round(e.startTime + e.duration)} ms`)[0],
      };
    });
    console.log(
      `[ui] ${THREE_ARMS}, 3 variations × 5 metrics: first meaningful paint ${Math.round(timing.meaningfulPaintMs)} ms ` +
        `(first contentful paint ${Math.round(timing.firstContentfulPaintMs)} ms, script start ${Math.round(timing.appStartMs)} ms, ` +
        `results request ${timing.results}); page weight ` +
        `${kb(timing.staticBytes + timing.apiBytes)} transferred: page and assets ${kb(timing.staticBytes)} (gzip), ` +
        `API answers ${kb(timing.apiBytes)}`,
    );
    expect(timing.meaningfulPaintMs).toBeGreaterThan(0);
    expect(timing.staticBytes, 'target: under 250 KB gzipped').toBeLessThan(250_000);
    await cold.screenshot({ path: path.join(OUT, 'experiment-3x5.png'), fullPage: true });
    await fresh.close();
  });

  it("shows another project's experiment as a 404 page, as the API answers", async () => {
    await page.goto(`${ui()}#/experiments/${OTHER_PROJECTS}`);
    await page.waitForSelector('[data-status="404"]', { timeout: PAGE_TIMEOUT_MS });
    expect(await page.locator('h1').textContent()).toBe('Experiment not found');
    const path = `/v1/experiments/${OTHER_PROJECTS}/results?metric=purchase`;
    const { status, body } = await api<{ error: { code: string } }>(path);
    expect([status, body.error.code], 'the API, to the same key').toEqual([404, 'unknown_experiment']);
    const own = await api(path, pipeline.keys['e2e-p2']?.read);
    expect(own.status, "its own project's key sees it").toBe(200);
    await shot('not-found.png');
  });

  it('fits a 375 px wide screen', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${ui()}#/experiments/${TWO_ARMS}`);
    await waitForResults(page, SET_METRICS);
    await page.waitForSelector('[data-chart=lift-chart] canvas', { timeout: PAGE_TIMEOUT_MS });
    await page.waitForTimeout(300); // the charts follow the new width
    const scrollWidth = () => (globalThis as unknown as BrowserWindow).document.documentElement.scrollWidth;
    const overflow = await page.evaluate(scrollWidth);
    expect(overflow, 'no horizontal scrolling').toBeLessThanOrEqual(375);
    await shot('experiment-375px.png');
    await shotOf('[data-metric=revenue_cuped]', 'cuped-block-375px.png');
    await page.goto(ui());
    await page.locator('table.experiments tbody tr').first().waitFor({ timeout: PAGE_TIMEOUT_MS });
    expect(await page.evaluate(scrollWidth)).toBeLessThanOrEqual(375);
    await shot('experiments-375px.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('signs out, forgetting the key', async () => {
    await page.click('header button');
    await page.waitForSelector('#read-key');
    const stored = await page.evaluate(() =>
      (globalThis as unknown as BrowserWindow).sessionStorage.getItem('liftstream.readKey'),
    );
    expect(stored).toBeNull();
    expect(await page.locator('.notice').textContent()).toContain('Signed out');
  });

  it('never puts the key in a URL, sends it only as the bearer, and sends the CSP on every answer', () => {
    expect(urls.length).toBeGreaterThan(10);
    expect(urls.filter((u) => u.includes(readKey))).toEqual([]);
    expect(page.url()).not.toContain(readKey);
    expect(
      unauthorisedApiCalls,
      'API calls without the read key as bearer: only the wrong key’s sign-in',
    ).toEqual(['/v1/experiments']);
    let pages = 0;
    let apis = 0;
    for (const [url, headers] of headersByUrl) {
      const { pathname } = new URL(url);
      if (pathname.startsWith('/ui/')) {
        pages += 1;
        expect(headers['content-security-policy'], url).toBe(UI_CONTENT_SECURITY_POLICY);
      } else if (pathname.startsWith('/v1/')) {
        apis += 1;
        expect(headers['content-security-policy'], url).toBe(API_CONTENT_SECURITY_POLICY);
      }
      expect(headers['x-content-type-options'], url).toBe('nosniff');
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(apis).toBeGreaterThanOrEqual(5);
    expect(consoleProblems, 'no CSP violation or script error in the page').toEqual([]);
  });
});

function exposures(
  experiment: string,
  prefix: string,
  n: number,
  isControl = (i: number) => i % 2 === 0,
): RawEvent[] {
  const at = Date.now() - 5_000;
  return Array.from({ length: n }, (_, i) => ({
    type: 'exposure',
    user_id: `${prefix}-${i}-${at}`,
    experiment,
    variation: isControl(i) ? 'control' : 'treatment',
    timestamp: at,
    message_id: `${prefix}-${experiment}-${i}-${at}`,
  }));
}

/** The pipeline is idle: the listing and the first experiment's results stay the same for a while. */
async function settled(statsUrl: string, key: string): Promise<void> {
  let previous = '';
  const differences = await awaitConverged(async () => {
    const get = async (p: string) =>
      (await fetch(`${statsUrl}${p}`, { headers: { authorization: `Bearer ${key}` } })).text();
    const now = JSON.stringify([
      await get('/v1/experiments'),
      (await get(`/v1/experiments/${TWO_ARMS}/results`)).replace(/"computed_at":"[^"]+"/, ''),
    ]);
    const changed = now !== previous || !now.includes(TWO_ARMS);
    previous = now;
    return changed ? ['still changing'] : [];
  }, Date.now() + SETTLE_TIMEOUT_MS);
  expect(differences, 'the pipeline settled').toEqual([]);
}

async function waitForResults(page: Page, metrics: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      (globalThis as unknown as BrowserWindow).document.querySelectorAll(
        '[data-section=results] [data-metric]',
      ).length === n,
    metrics,
    { timeout: PAGE_TIMEOUT_MS },
  );
  await page.waitForSelector('[data-section=results] svg[data-chart=forest] .fp-point', {
    timeout: PAGE_TIMEOUT_MS,
  });
}

async function totalUnits(page: Page): Promise<string | null> {
  return page.locator('[data-figure=total-units]').getAttribute('value');
}

async function shownFigures(page: Page): Promise<'sequential' | 'fixed'> {
  return (await page.locator('.figures-choice').getAttribute('data-figures')) === 'sequential'
    ? 'sequential'
    : 'fixed';
}

/** Every figure of every metric block under `scope`, keyed `metric/variation`. */
async function readRows(page: Page, scope: string): Promise<Rows> {
  return page.$$eval(`${scope} [data-metric] tr[data-variation]`, (rows) =>
    Object.fromEntries(
      rows.map((tr) => [
        `${tr.closest('[data-metric]')?.getAttribute('data-metric')}/${tr.getAttribute('data-variation')}`,
        Object.fromEntries(
          [...tr.querySelectorAll('[data-figure]')].map((el) => [
            el.getAttribute('data-figure'),
            // A null figure has no value: the attribute absent, or empty once a value went away.
            { value: el.getAttribute('value') || null, text: el.textContent },
          ]),
        ),
      ]),
    ),
  );
}

const figure = (value: number | null, text: string): Figure => ({
  value: value === null ? null : String(value),
  text,
});
/** The same text, and the same value to 1e-12 relative (floats summed in another order). */
function expectSameFigure(actual: Figure | undefined, expected: Figure, label: string): void {
  expect(actual?.text, `${label} text`).toBe(expected.text);
  if (expected.value === null) return void expect(actual?.value, `${label} value`).toBeNull();
  const [a, e] = [Number(actual?.value), Number(expected.value)];
  expect(Math.abs(a - e), `${label} value: ${actual?.value} vs ${expected.value}`).toBeLessThanOrEqual(
    Math.abs(e) * 1e-12,
  );
}

const interval = (ci: readonly number[] | null): Figure => ({
  value: ci === null ? null : JSON.stringify(ci),
  text: format.formatInterval(ci === null ? null : [ci[0] as number, ci[1] as number]),
});

function hasSequential(blocks: MetricBlock[]): boolean {
  return blocks.some((b) =>
    b.variations.some((v) => (v as { sequential?: SequentialFigures | null }).sequential),
  );
}

type Adjustment = 'cuped' | 'unadjusted';

/**
 * The comparison fields the page shows for a treatment: a CUPED metric's `cuped` block unless the
 * unadjusted figures are asked for (all null when the API sent none), else the variation's own.
 */
function comparedOf(block: MetricBlock, v: MetricVariation, adjustment: Adjustment) {
  if (block.cuped === null || block.cuped === undefined || adjustment === 'unadjusted') return v;
  return v.cuped ?? { lift: null, lift_ci: null, p_value: null, adjusted_p_value: null, sequential: null };
}

/**
 * What the page must show for these blocks: the API's numbers, formatted by the page's formatters, and
 * the significance in words of the p-value shown (Holm-adjusted for fixed-horizon figures). A CUPED
 * metric's comparisons are its adjusted ones unless `adjustment` says otherwise (the page's default);
 * its estimate is the unadjusted mean either way.
 */
function expectedRows(
  blocks: MetricBlock[],
  figures: 'sequential' | 'fixed',
  confidence: number,
  adjustment: Adjustment = 'cuped',
): Rows {
  const rows: Rows = {};
  for (const block of blocks) {
    const control = block.variations[0]?.variation;
    const direction = block.direction === 'decrease' ? 'decrease' : 'increase';
    for (const v of block.variations) {
      const row: Record<string, Figure> = {
        units: figure(v.units, format.formatCount(v.units)),
        conversions: figure(v.conversions, format.formatCount(v.conversions)),
        estimate: figure(v.estimate, format.formatEstimate(block.type, v.estimate)),
        verdict: { value: null, text: 'Control' },
      };
      if (v.variation !== control) {
        const c = comparedOf(block, v, adjustment);
        const seq = (c as { sequential?: SequentialFigures | null }).sequential;
        const shown = figures === 'sequential' ? seq : c;
        row['lift'] = figure(c.lift, format.formatLift(c.lift));
        row['ci'] = interval(shown?.lift_ci ?? null);
        row['p'] = figure(shown?.p_value ?? null, format.formatPValue(shown?.p_value ?? null));
        if (figures === 'fixed' && c.adjusted_p_value !== null && c.adjusted_p_value !== c.p_value) {
          row['adjusted-p'] = figure(c.adjusted_p_value, format.formatPValue(c.adjusted_p_value));
        }
        const decisive =
          figures === 'sequential' ? (seq?.p_value ?? null) : (c.adjusted_p_value ?? c.p_value);
        const words =
          shown === null || shown === undefined
            ? 'Not enough data'
            : verdictOf(decisive, c.lift, confidence, direction).words;
        row['verdict'] = { value: null, text: words };
      }
      rows[`${block.metric}/${v.variation}`] = row;
    }
  }
  return rows;
}

/** The forest plot's description of a block (its screen-reader text, the figures its marks are drawn from). */
async function forestDescription(page: Page, metric: string): Promise<string | null> {
  return page
    .locator(`[data-section=results] [data-metric=${metric}] svg[data-chart=forest] desc`)
    .textContent();
}

/** What that description must say: per treatment the lift and interval shown, formatted. */
function forestDescriptionOf(
  block: MetricBlock,
  figures: 'sequential' | 'fixed',
  adjustment: Adjustment,
): string {
  return block.variations
    .slice(1)
    .map((v) => {
      const c = comparedOf(block, v, adjustment);
      const shown =
        figures === 'sequential' ? (c as { sequential?: SequentialFigures | null }).sequential : c;
      const ci = shown?.lift_ci ?? null;
      return `${v.variation}: lift ${format.formatLift(shown === null || shown === undefined ? null : c.lift)}, interval ${format.formatInterval(ci === null ? null : [ci[0], ci[1]])}`;
    })
    .join('; ');
}

async function expectFiguresEqual(page: Page, answer: MetricResultsAnswer): Promise<void> {
  const figures = await shownFigures(page);
  expect(await readRows(page, '[data-section=results]'), `figures (${figures})`).toEqual(
    expectedRows(answer.metrics ?? [], figures, answer.confidence),
  );
  const health = await page.$$eval('[data-section=health] table.srm tr[data-variation]', (rows) =>
    rows.map((tr) => [
      tr.getAttribute('data-variation'),
      tr.querySelector('[data-figure=srm-observed]')?.getAttribute('value'),
      tr.querySelector('[data-figure=srm-expected]')?.getAttribute('value'),
      tr.querySelector('[data-figure=srm-expected]')?.textContent,
    ]),
  );
  expect(health).toEqual(
    Object.keys(answer.srm.observed).map((v) => [
      v,
      String(answer.srm.observed[v]),
      String(answer.srm.expected[v]),
      format.formatExpected(answer.srm.expected[v] ?? null),
    ]),
  );
  const srmP = page.locator('[data-section=health] [data-figure=srm-p-value]');
  expect(await srmP.getAttribute('value')).toBe(String(answer.srm.p_value));
  expect(await srmP.textContent()).toBe(format.formatPValue(answer.srm.p_value));
}

/** Marks, not just elements: interval bars in every forest plot, series pixels on both canvases. */
async function expectChartsDrawn(page: Page, answer: MetricResultsAnswer): Promise<void> {
  const figures = await shownFigures(page);
  const intervals = (answer.metrics ?? [])
    .flatMap((m) => m.variations.slice(1).map((v) => comparedOf(m, v, 'cuped')))
    .filter((c) => (figures === 'sequential' ? (c.sequential?.lift_ci ?? null) : c.lift_ci) !== null);
  const bars = await page.locator('[data-section=results] svg[data-chart=forest] rect.fp-ci').count();
  expect(bars, 'one interval bar per treatment with an interval').toBe(intervals.length);
  await page.waitForSelector('[data-chart=units-chart] canvas', { timeout: PAGE_TIMEOUT_MS });
  const colours: Record<string, [number, number, number]> = {
    control: [75, 85, 99],
    treatment: [0, 114, 178],
  };
  for (const chart of ['lift-chart', 'units-chart']) {
    for (const [series, rgb] of Object.entries(colours)) {
      if (chart === 'lift-chart' && series === 'control') continue; // the control has no lift
      const pixels = await page.$eval(
        `[data-chart=${chart}] canvas`,
        (canvas, [r, g, b]) => {
          const c = canvas as unknown as {
            width: number;
            height: number;
            getContext(kind: '2d'): {
              getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
            };
          };
          const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) {
            const alpha = data[i + 3] as number;
            const close =
              Math.abs((data[i] as number) - r) +
                Math.abs((data[i + 1] as number) - g) +
                Math.abs((data[i + 2] as number) - b) <
              40;
            if (alpha > 200 && close) n += 1;
          }
          return n;
        },
        rgb,
      );
      expect(pixels, `${series} line drawn on ${chart}`).toBeGreaterThan(100);
    }
  }
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
