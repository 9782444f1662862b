// `hala report` in a real browser: campaigns run on the dev server through the campaign harness, the
// report is written by the CLI's own command, and headless Chromium opens the file with every network
// request blocked. Each chart must flag ECharts' 'finished' and have drawn pixels beyond its
// background; a full-page screenshot of each report is saved under the OS temp dir (path printed).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../cli/report/report-command';
import { campaignInput } from '../../cli/start-campaign';
import type { Recipe } from '../../contracts/recipe';
import type { campaign } from '../../workflows/campaign';
import { launchChromium } from '../support/browser';
import type { CampaignHarness } from '../support/campaign-harness';
import { startPricedHarness } from '../support/priced-campaign';
import { createLocalEnv } from '../support/temporal-env';

interface ChartPixels {
  id: string;
  finished: boolean;
  width: number;
  height: number;
  /** Pixels that differ from the canvas's most common colour (its background). */
  drawn: number;
}

/**
 * Runs in the page (as text: this project compiles without the DOM library): each chart's flag, and
 * how many of its canvas pixels differ from the canvas's most common colour, its background.
 */
const MEASURE_CHARTS = `Object.entries(window.halaCharts).map(([id, finished]) => {
  const canvas = document.querySelector('#chart-' + id + ' canvas');
  if (!canvas) return { id, finished, width: 0, height: 0, drawn: 0 };
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return { id, finished, width: canvas.width, height: canvas.height, drawn: data.length / 4 - Math.max(...counts.values()) };
})`;

describe('hala report in headless Chromium', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let browser: Browser;
  let failing: string | undefined;

  beforeAll(async () => {
    env = await createLocalEnv();
    harness = await startPricedHarness(env, () => failing);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const runCampaign = async (id: string, r: Recipe) => {
    const handle = await env.client.workflow.start<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: id, args: [campaignInput(r, harness.sha, { id })] });
    await handle.result().catch(() => undefined); // a failed campaign is reported too
  };

  /** Writes the report through the CLI command, opens it offline, waits for every chart; returns what each drew. */
  async function openReport(id: string) {
    const out = path.join(harness.storeDir, `${id}.html`);
    const code = await reportCommand(id, { out, store: `file://${harness.storeDir}` }, () => Promise.reject(new Error('ended campaigns need no Temporal')));
    expect(code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const attempted: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      attempted.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) attempted.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`file://${out}`);
      await page.waitForFunction('window.halaCharts !== undefined && Object.values(window.halaCharts).every(Boolean)', undefined, { timeout: 30_000 });
      const charts = (await page.evaluate(MEASURE_CHARTS)) as ChartPixels[];
      const missing = await page.locator('li.missing').allTextContents();
      const screenshot = path.join(tmpdir(), `hala-report-${id}.png`);
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`hala report screenshot: ${screenshot}`);
      return { charts, missing, attempted, errors, html };
    } finally {
      await context.close();
    }
  }

  const expectDrawn = (charts: ChartPixels[]) => {
    for (const c of charts) {
      expect(c.finished, c.id).toBe(true);
      expect(c.width * c.height, c.id).toBeGreaterThan(0);
      // Well beyond anti-aliased axes alone: bars, lines, nodes and their labels.
      expect(c.drawn / (c.width * c.height), `${c.id}: ${c.drawn} of ${c.width * c.height} pixels drawn`).toBeGreaterThan(0.01);
    }
  };

  it('draws every chart of a completed campaign offline: timeline, cost, loss, scores, benchmarks, funnel, lineage', async () => {
    await runCampaign('page-done', harness.recipe);
    const page = await openReport('page-done');
    expect(page.attempted).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(page.charts.map((c) => c.id)).toEqual([
      'timeline', 'cost', 'loss', 'teacher-quality', 'translator-quality',
      'benchmarks-hala-350m', 'benchmarks-hala-700m', 'benchmarks-hala-1-2b', 'funnel', 'filter-drops', 'lineage',
    ]);
    expectDrawn(page.charts);
    expect(page.missing).toEqual([]);
    expect(page.html).toContain('echarts'); // the library is inline, not fetched
  });

  it('draws a failed campaign too, saying in words what it could not show', async () => {
    failing = 'sft-hala-700m';
    await runCampaign('page-failed', { ...harness.recipe, seed: 11 });
    failing = undefined;
    const page = await openReport('page-failed');
    expect(page.attempted).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(page.charts.map((c) => c.id)).not.toContain('benchmarks-hala-700m');
    expectDrawn(page.charts);
    expect(page.missing).toEqual(expect.arrayContaining(['loss curve of sft-hala-700m: the stage is failed', 'benchmarks of hala-700m: evaluate-hala-700m is pending']));
  });
});
