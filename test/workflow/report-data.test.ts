// `hala report`'s gathering on real stores written by real campaigns: the campaign harness on the dev
// server (recording stand-ins for the GPU and data-plane work, the real stage cache and summaries),
// read back through the report's own sources: the summary of an ended campaign, the live query of a
// running one. The browser test (test/e2e/report-in-browser.test.ts) checks the page.
import { readFileSync, rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileStore } from '../../activities/store';
import type { ActivitySummary } from '../../contracts/lineage';
import type { CampaignSummary } from '../../contracts/campaign-summary';
import type { Recipe } from '../../contracts/recipe';
import { campaignInput } from '../../cli/start-campaign';
import { campaignView } from '../../cli/report/campaign-source';
import { gatherReport } from '../../cli/report/gather';
import { reportCommand } from '../../cli/report/report-command';
import type { ReportData } from '../../cli/report/report-data';
import { stageCost } from '../../cli/report/stage-cost';
import type { campaign } from '../../workflows/campaign';
import { pauseSignal, progressQuery, resumeSignal } from '../../workflows/definitions';
import type { CampaignHarness } from '../support/campaign-harness';
import { PRICES, pricedRecipe, startPricedHarness } from '../support/priced-campaign';
import { createLocalEnv } from '../support/temporal-env';
import { loadRecipe } from '../../cli/recipe-file';

/** Which pool's price each activity pays in pricedRecipe: written out, not derived from the placement code. */
const PRICE_OF: Record<string, number> = {
  compress_teacher: PRICES.quantize,
  translate_shard: PRICES.infer,
  score_translation: PRICES.eval,
  train_sft: PRICES.train,
  merge_slerp: PRICES.quantize,
  evaluate_benchmarks: PRICES.eval,
};
const STUDENTS = ['hala-1-2b', 'hala-700m', 'hala-350m']; // the tiny recipe's order: largest first

describe('hala report: gathering', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let recipe: Recipe;
  let store: FileStore;
  let failing: string | undefined;

  beforeAll(async () => {
    env = await createLocalEnv();
    harness = await startPricedHarness(env, () => failing);
    recipe = harness.recipe;
    store = new FileStore(`file://${harness.storeDir}`);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const start = (id: string, r: Recipe = recipe) =>
    env.client.workflow.start<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: id, args: [campaignInput(r, harness.sha, { id })] });
  const noTemporal = () => Promise.reject(new Error('an ended campaign is read from its summary, without Temporal'));
  const manifestActivities = (key: string) =>
    (JSON.parse(readFileSync(`${harness.storeDir}/cache/${key}.json`, 'utf8')) as { output: { activities?: ActivitySummary[] } }).output.activities ?? [];

  it('reads a completed campaign from its summary: stages priced by their pools, loss curves, scores, funnel, lineage', async () => {
    await (await start('rep-done')).result();
    const data = await gatherReport(await campaignView('rep-done', store, noTemporal), store);

    expect(data).toMatchObject({ campaign_id: 'rep-done', recipe: 'tiny', state: 'completed', source: 'summary' });
    expect(data.stages.map((s) => s.status)).toEqual(data.stages.map(() => 'completed'));
    const summary = JSON.parse(readFileSync(`${harness.storeDir}/campaigns/rep-done/summary.json`, 'utf8')) as CampaignSummary;
    const keyOf = new Map(summary.progress.stages.map((s) => [s.stage, s.stage_key!]));
    for (const s of data.stages) {
      const activities = manifestActivities(keyOf.get(s.stage)!);
      const gpuSeconds = activities.reduce((sum, a) => sum + a.gpu_seconds, 0);
      expect(s.gpu_seconds, s.stage).toBeCloseTo(gpuSeconds, 9);
      expect(s.cost, s.stage).toBeCloseTo(activities.reduce((sum, a) => sum + (a.gpu_seconds / 3600) * PRICE_OF[a.activity]!, 0), 12);
    }
    const sft = data.stages.find((s) => s.stage === 'sft-hala-350m')!;
    expect(sft.gpu_seconds).toBeGreaterThan(0);
    expect(sft.classes).toEqual({ train: 'train-a' });
    expect(data.stages.find((s) => s.stage === 'compress-teacher')!.classes).toEqual({ quantize: 'quantize-a', infer: 'infer-a', eval: 'eval-a' });
    expect(data.stages.find((s) => s.stage === 'filter-opus')).toMatchObject({ gpu_seconds: 0, cost: 0 }); // CPU only
    expect(data.cost.cost).toBeCloseTo(data.stages.reduce((sum, s) => sum + s.cost!, 0), 12);
    expect(data.cost.gpu_hours * 3600).toBeCloseTo(data.stages.reduce((sum, s) => sum + s.gpu_seconds!, 0), 6);

    // The fakes write the loss history as the train runner does: ten steps falling to the final loss.
    expect(data.loss.map((c) => c.stage)).toEqual(['train-translator', ...STUDENTS.map((s) => `sft-${s}`)]);
    for (const c of data.loss) {
      expect(c.points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(c.points.at(-1)!.loss).toBeCloseTo(0.5);
    }
    // The fakes score any base translation 1 / 5, every other 40 / 60.
    expect(data.translation).toEqual({ teacher: { bf16: { bleu: 40, chrf: 60 }, fp8: { bleu: 40, chrf: 60 } }, translator: { base: { bleu: 1, chrf: 5 }, tuned: { bleu: 40, chrf: 60 } } });
    // The stand-ins score SFT best on the validation rows too (60 vs 50): every student keeps it.
    const choice = "keeps sft: validation average 60.00 on 20% of each benchmark's rows vs merged 50.00, t0.3 50.00, t0.7 50.00";
    expect(data.benchmarks).toEqual(STUDENTS.map((student) => ({ student, stage: `evaluate-${student}`, series: { base: { AlGhafa: 25 }, sft: { AlGhafa: 60 }, merged: { AlGhafa: 50 }, chosen: { AlGhafa: 60 } }, missing: [], choice })));
    expect(data.funnel.filter).toMatchObject({ read: 10, kept: 8, empty: 1, identical: 1 });
    expect(data.funnel.corpus).toMatchObject({ pairs: 10, examples: 20, pairs_opus: 8, pairs_open_orca: 2 });

    const stagesInLineage = new Set(data.lineage.nodes.map((n) => n.stage).filter(Boolean));
    for (const s of data.stages.filter((s) => s.stage !== 'evaluate-translator')) expect(stagesInLineage.has(s.stage), s.stage).toBe(true); // it makes no artifact
    expect(data.lineage.nodes.some((n) => n.kind === 'source' && n.uri === recipe.inputs.teacher)).toBe(true);
    expect(data.missing).toEqual([]);
  });

  it('reads a running campaign live (its progress query, the recipe from its start event); once ended, cached stages are not billed again', async () => {
    const handle = await start('rep-live');
    await handle.signal(pauseSignal);
    await waitFor(async () => (await handle.query(progressQuery)).state === 'paused');
    const live = await gatherReport(await campaignView('rep-live', store, () => Promise.resolve(env.client)), store);
    await handle.signal(resumeSignal);
    await handle.result();

    expect(live).toMatchObject({ campaign_id: 'rep-live', recipe: 'tiny', state: 'paused', source: 'live' });
    const pending = live.stages.filter((s) => s.status === 'pending');
    expect(pending.length).toBeGreaterThan(0);
    for (const s of pending) expect(s).toMatchObject({ cost_note: 'pending: not finished' });
    expect(live.missing).toContain('loss curve of sft-hala-350m: the stage is pending');
    expect(live.missing).toContain('benchmarks of hala-350m: evaluate-hala-350m is pending');

    // Ended, it reads from its summary. Same recipe as rep-done: every stage came from the cache,
    // priced as it was, but paid for by rep-done, so this campaign's own bill is zero.
    const ended = await gatherReport(await campaignView('rep-live', store, noTemporal), store);
    expect(ended).toMatchObject({ state: 'completed', source: 'summary', cost: { gpu_hours: 0, cost: 0 } });
    for (const s of ended.stages) expect(s, s.stage).toMatchObject({ status: 'cached', cached: true, produced_by: 'rep-done' });
    expect(ended.stages.find((s) => s.stage === 'sft-hala-350m')!.cost).toBeGreaterThan(0);
    expect(ended.loss).toHaveLength(4);
  });

  it('reads a failed campaign from its summary: the failed stage with its error, what it blocked said in words', async () => {
    failing = 'sft-hala-700m';
    await (await start('rep-failed', { ...recipe, seed: 7 })).result().catch(() => undefined);
    failing = undefined;
    const data = await gatherReport(await campaignView('rep-failed', store, noTemporal), store);

    expect(data).toMatchObject({ state: 'failed', source: 'summary' });
    expect(data.stages.find((s) => s.stage === 'sft-hala-700m')).toMatchObject({ status: 'failed', cost_note: 'failed: a failed attempt reports no GPU time' });
    expect(data.stages.find((s) => s.stage === 'sft-hala-700m')!.error).toMatch(/^RunnerFailed: train_sft: ZeroDivisionError/);
    expect(data.loss.map((c) => c.stage)).toEqual(['train-translator', 'sft-hala-1-2b', 'sft-hala-350m']);
    expect(data.benchmarks.map((b) => b.student)).toEqual(['hala-1-2b', 'hala-350m']);
    expect(data.missing).toEqual(expect.arrayContaining(['loss curve of sft-hala-700m: the stage is failed', 'benchmarks of hala-700m: evaluate-hala-700m is pending']));
    expect(data.cost.cost).toBeGreaterThan(0);

    // --json prints exactly what was gathered.
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    const code = await reportCommand('rep-failed', { json: true, store: `file://${harness.storeDir}` }, noTemporal).finally(() => log.mockRestore());
    expect(code).toBe(0);
    expect({ ...(JSON.parse(printed.join('')) as ReportData), generated_at: data.generated_at }).toEqual(data);
  });

  it('names a campaign it cannot find, in the store or in Temporal', async () => {
    await expect(campaignView('rep-nowhere', store, () => Promise.resolve(env.client))).rejects.toThrow(/^no campaign rep-nowhere: no summary in file:\/\/.* and no such workflow/);
  });
});

describe('stage cost', () => {
  const tiny = loadRecipe(`${__dirname}/../../recipes/tiny.yaml`);
  const run = (activity: string, gpu_seconds: number): ActivitySummary => ({ activity, count: 1, attempts: 1, retries: 0, seconds: gpu_seconds, gpu_seconds });
  it('prices each activity at its own pool and names the work that ran on an unpriced queue', () => {
    if (!tiny.ok) throw new Error('tiny.yaml');
    const priced = pricedRecipe(tiny.recipe);
    expect(stageCost([run('compress_teacher', 3600), run('translate_shard', 1800), run('score_translation', 36)], priced, 'compress-teacher', 'compress-teacher')).toEqual({
      gpu_seconds: 5436,
      cost: 4 + 1 + 0.01,
      classes: { quantize: 'quantize-a', infer: 'infer-a', eval: 'eval-a' },
    });
    const noScore = { ...priced, resources: { ...priced.resources, score: undefined } };
    expect(stageCost([run('translate_shard', 1800), run('score_translation', 36)], noScore, 'evaluate-translator', 'evaluate-translator')).toEqual({
      gpu_seconds: 1836,
      classes: { infer: 'infer-a' },
      note: 'no resource class, so no price, for score_translation (eval role queue): set resources.classes and a route in the recipe',
    });
    expect(stageCost([run('train_sft', 10)], undefined, 'sft-x', 'sft')).toMatchObject({ gpu_seconds: 10, note: 'the recipe is unknown, so are its prices' });
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 10_000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (await check()) return;
  throw new Error('timed out');
}
