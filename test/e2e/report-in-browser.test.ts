// `hala report` in a real browser: campaigns run on the dev server through the campaign harness, the
// report is written by the CLI's own command, and headless Chromium opens the file with every network
// request blocked. Each chart must flag ECharts' 'finished' and have drawn pixels beyond its
// background; the lineage graph (SVG) must read as a DAG (test/support/lineage-geometry.ts); a
// full-page screenshot of each report and one of its lineage graph are saved under the OS temp dir
// (paths printed).
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
import { type Box, type Line, measureGeometry } from '../support/lineage-geometry';

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

/**
 * Runs in the page: the lineage graph as Chromium laid it out (SVG user units, which the page draws
 * 1:1 in CSS pixels): each box with its layer, each edge's path, and each label's drawn extent and
 * font size, so legibility is judged on what was rendered, not on what the layout asked for.
 */
const MEASURE_LINEAGE = `(() => {
  const svg = document.querySelector('#lineage svg');
  if (!svg) return undefined;
  const boxes = [...svg.querySelectorAll('g.node')].map((g) => {
    const r = g.querySelector('rect').getBBox();
    const t = g.querySelector('text').getBBox();
    const fontPx = parseFloat(getComputedStyle(g.querySelector('text')).fontSize);
    return { id: g.dataset.id, layer: Number(g.dataset.layer), x: r.x + r.width / 2, y: r.y + r.height / 2, width: r.width, height: r.height,
      label: { x: t.x, y: t.y, width: t.width, height: t.height, fontPx } };
  });
  const lines = [...svg.querySelectorAll('polyline.edge')].map((l) => ({ from: l.dataset.from, to: l.dataset.to, points: [...l.points].map((p) => ({ x: p.x, y: p.y })) }));
  return { boxes, lines, scale: svg.getBoundingClientRect().width / svg.viewBox.baseVal.width };
})()`;

interface LineageDrawn {
  boxes: (Box & { label: { x: number; y: number; width: number; height: number; fontPx: number } })[];
  lines: Line[];
  /** CSS pixels per SVG unit: 1 when the graph is drawn at its own size (a wide one scrolls). */
  scale: number;
}

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
      const lineage = (await page.evaluate(MEASURE_LINEAGE)) as LineageDrawn | undefined;
      const lineageShot = path.join(tmpdir(), `hala-report-${id}-lineage.png`);
      if (lineage) await screenshotAlone(await page.locator('#lineage svg').evaluate((svg) => svg.outerHTML), lineageShot);
      const missing = await page.locator('li.missing').allTextContents();
      const screenshot = path.join(tmpdir(), `hala-report-${id}.png`);
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`hala report screenshot: ${screenshot}${lineage ? `, lineage graph: ${lineageShot}` : ''}`);
      return { charts, lineage, missing, attempted, errors, html };
    } finally {
      await context.close();
    }
  }

  /** The lineage graph alone, at its own size (on the report page it scrolls inside the page's width). */
  async function screenshotAlone(svg: string, file: string) {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    try {
      await page.setContent(`<body style="margin:0">${svg}</body>`);
      await page.locator('svg').screenshot({ path: file });
    } finally {
      await page.close();
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

  /** The lineage graph as drawn: a DAG read left to right, boxes apart, labels inside their boxes at a legible size, few crossings. */
  const expectReadableLineage = (drawn: LineageDrawn | undefined) => {
    expect(drawn, 'the lineage graph is drawn').toBeDefined();
    const { boxes, lines, scale } = drawn!;
    expect(scale).toBeCloseTo(1, 2); // drawn at its own size: labels are never shrunk to fit the page
    expect(boxes.length).toBeGreaterThan(10);
    const g = measureGeometry(boxes, lines);
    console.log(`lineage as drawn: ${boxes.length} boxes, ${lines.length} edges, ${g.crossings} crossings, ${new Set(boxes.map((b) => b.layer)).size} layers`);
    expect(g.backwards).toEqual([]);
    expect(g.overlaps).toEqual([]);
    expect(g.through).toEqual([]);
    // Not none: six benchmark sets and three student bases feed most stages. The ECharts graph of hand-placed
    // columns it replaces, measured the same way in Chromium: 9554 crossings, 288 edges through boxes, 559 overlaps.
    expect(g.crossings).toBeLessThanOrEqual(0.5 * lines.length);
    for (const b of boxes) {
      expect(b.label.fontPx, b.id).toBeGreaterThanOrEqual(10);
      const [left, top] = [b.x - b.width / 2, b.y - b.height / 2];
      expect(b.label.x >= left && b.label.x + b.label.width <= left + b.width && b.label.y >= top && b.label.y + b.label.height <= top + b.height, `label of ${b.id} inside its box`).toBe(true);
    }
  };

  it('draws every chart of a completed campaign offline: timeline, cost, loss, scores, benchmarks, funnel, lineage', async () => {
    await runCampaign('page-done', harness.recipe);
    const page = await openReport('page-done');
    expect(page.attempted).toEqual([]);
    expect(page.errors).toEqual([]);
    expect(page.charts.map((c) => c.id)).toEqual([
      'timeline', 'cost', 'loss', 'teacher-quality', 'translator-quality',
      'benchmarks-hala-1-2b', 'benchmarks-hala-700m', 'benchmarks-hala-350m', 'funnel', 'filter-drops',
    ]);
    expectDrawn(page.charts);
    expectReadableLineage(page.lineage);
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
    expectReadableLineage(page.lineage);
    expect(page.missing).toEqual(expect.arrayContaining(['loss curve of sft-hala-700m: the stage is failed', 'benchmarks of hala-700m: evaluate-hala-700m is pending']));
  });
});
