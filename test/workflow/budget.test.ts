// The budget on the real dev server: the priced tiny recipe with a budget far below one stage's GPU
// work runs until its finished work reaches the cap, then holds the next stage unstarted (the progress,
// `hala status` and the UI say so and how to raise it); a raise sent by `hala approve <id> budget`
// releases it, the campaign completes, and the raise is in the lineage of the stages it released.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalRefused, raiseBudget } from '../../cli/approve';
import { toText, walkLineage } from '../../cli/lineage';
import { startCampaign } from '../../cli/start-campaign';
import { renderSummary } from '../../cli/summary';
import { ProgressRate } from '../../cli/progress-rate';
import { PlainLog, terminalFrame } from '../../cli/watch-render';
import { snapshot } from '../../cli/watch-snapshot';
import type { CampaignProgress } from '../../contracts/campaign';
import { LineageRecord } from '../../contracts/lineage';
import type { Recipe } from '../../contracts/recipe';
import type { GpuActivityFns } from '../../contracts/gpu-activity-fns';
import { loadRecipe } from '../../cli/recipe-file';
import { hubMirror } from '../../platform/python-env';
import type { campaign } from '../../workflows/campaign';
import { progressQuery } from '../../workflows/definitions';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { runHala } from '../support/hala-cli';
import { PRICES, pricedRecipe } from '../support/priced-campaign';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';

/** A hundredth of a GPU-second: the first GPU stage to finish passes it. */
const TINY_GPU_HOURS = 0.01 / 3600;

describe('budget', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let budgeted: Recipe;

  /** While set, every training call waits for it: a stage that stays running as long as a test needs. */
  let trainingHeld: Promise<void> | undefined;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror(); // openStage digests hf:// sources from the offline mirror
    env = await createLocalEnv();
    const tiny = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
    if (!tiny.ok) throw new Error(tiny.problems.join('\n'));
    const train = (fakes: GpuActivityFns): Partial<GpuActivityFns> => ({
      train_sft: async (input) => {
        await trainingHeld;
        return fakes.train_sft(input);
      },
    });
    harness = await startCampaignHarness(env, { recipe: pricedRecipe(tiny.recipe), gpu: train });
    budgeted = { ...harness.recipe, budget: { gpu_hours: TINY_GPU_HOURS, cost_usd: 100, warn_at: 0.8 } };
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const progress = (h: WorkflowHandle<typeof campaign>): Promise<CampaignProgress> => h.query(progressQuery);
  const callsOf = (stage: string) => harness.fakes.calls.filter((c) => String(c.input.output_prefix ?? '').includes(`/stages/${stage}/`));
  const load = (sha: string) => LineageRecord.parse(JSON.parse(readFileSync(path.join(harness.storeDir, 'lineage', `${sha}.json`), 'utf8')));

  it('holds new stages at the cap until a raise, which their lineage records', async () => {
    const id = 'budget-held';
    const handle = await startCampaign(env.client, budgeted, harness.sha, { id, plannedSpend: { 'build-bilingual-corpus': { gpu_hours: 2, cost_usd: 4 } } });
    await until('the campaign to hold at its budget', async () => (await progress(handle)).budget?.state === 'held');
    // Give the campaign time to start anything it (wrongly) would: the corpus stage may not start.
    await new Promise((r) => setTimeout(r, 1500));
    const held = await progress(handle);
    const corpus = held.stages.find((s) => s.stage === 'build-bilingual-corpus')!;
    expect(held.stages.find((s) => s.stage === 'compress-teacher')?.status).toBe('completed');
    expect(corpus.status).toBe('pending');
    expect(callsOf('build-bilingual-corpus')).toEqual([]);
    const budget = held.budget!;
    expect(budget).toMatchObject({ state: 'held', held_stages: ['build-bilingual-corpus'], caps: { gpu_hours: TINY_GPU_HOURS, cost_usd: 100 }, unpriced_gpu_hours: 0, raises: [] });
    // compress-teacher's work, priced on its pools: every GPU-hour between the cheapest and the dearest price.
    expect(budget.spent.gpu_hours).toBeGreaterThanOrEqual(TINY_GPU_HOURS);
    expect(budget.spent.cost_usd).toBeGreaterThanOrEqual(budget.spent.gpu_hours * Math.min(...Object.values(PRICES)));
    expect(budget.spent.cost_usd).toBeLessThanOrEqual(budget.spent.gpu_hours * Math.max(...Object.values(PRICES)));
    expect(budget.projected).toEqual(budget.spent); // nothing runs: nothing is projected

    const status = renderSummary(held, 'http://ui');
    expect(status).toMatch(/\nbudget: cost 0\.\d\d spent, 0\.\d\d projected, cap 100\.00; GPU-hours [\d.]+ spent, [\d.]+ projected, cap 0\n/);
    expect(status).toContain('  held at budget: build-bilingual-corpus wait; running stages go on.');
    expect(status).toContain(`  raise it: hala approve ${id} budget --cost-usd <N> --gpu-hours <N> (either or both)`);
    // `hala watch`: a line under the header in the terminal, and one when the state changes in plain output.
    const watched = snapshot(held, [], [], new ProgressRate());
    expect(watched.budget).toMatchObject({ state: 'held', held_stages: ['build-bilingual-corpus'], raise: `npx hala approve ${id} budget --cost-usd <N> --gpu-hours <N>` });
    const heldLine = `budget held: ${watched.budget!.figures} — build-bilingual-corpus wait: npx hala approve ${id} budget --cost-usd <N> --gpu-hours <N>`;
    expect(terminalFrame(watched, { colour: false, width: 400, t0: Date.now() })[1]).toBe(`$ ${heldLine}`);
    const log = new PlainLog(Date.now());
    const announced = log.lines(watched).filter((l) => l.includes('budget'));
    expect(announced).toHaveLength(1);
    expect(announced[0]!.endsWith(`] ${heldLine}`), announced[0]).toBe(true);
    expect(log.lines(watched).filter((l) => l.includes('budget'))).toEqual([]);
    const metadata = await env.client.workflow.getHandle(id).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(`**Held at budget**: build-bilingual-corpus wait; \`npx hala approve ${id} budget --cost-usd N --gpu-hours N\` raises it.`);

    // Refused raises say why and change nothing.
    await expect(raiseBudget(env.client, id, { by: 'alice', gpu_hours: TINY_GPU_HOURS })).rejects.toThrow(
      new ApprovalRefused(`a raise sets a cap above the current one: budget gpu_hours is ${TINY_GPU_HOURS}, got ${TINY_GPU_HOURS}`),
    );
    await expect(raiseBudget(env.client, id, { by: 'alice' })).rejects.toThrow(new ApprovalRefused('a raise names a new cap: pass --cost-usd <N>, --gpu-hours <N> or both'));
    expect((await progress(handle)).budget?.state).toBe('held');

    const raised = await runHala(env.address, 'approve', id, 'budget', '--gpu-hours', '1000', '--by', 'alice', '--note', 'worth it');
    expect(raised.code, raised.stderr).toBe(0);
    expect(raised.stdout).toMatch(new RegExp(`^hala: budget of ${id} raised by alice at \\S+ to cost 100\\.00, 1000\\.0 GPU-hours \\(worth it\\): held stages go on\\n$`));

    const done = await handle.result();
    expect(done.progress.state).toBe('completed');
    const raise = done.progress.budget!.raises[0]!;
    expect(done.progress.budget).toMatchObject({ state: 'under', held_stages: [], caps: { gpu_hours: 1000, cost_usd: 100 }, raises: [{ gate: 'budget', by: 'alice', note: 'worth it', budget: { gpu_hours: 1000, cost_usd: 100 } }] });
    expect(done.progress.budget!.spent.gpu_hours).toBeGreaterThan(budget.spent.gpu_hours);

    // In the lineage of the stages released after the raise, not of those that ran before it.
    const released = done.progress.stages.find((s) => s.stage === 'build-bilingual-corpus')!;
    expect(load(released.artifacts[0]!.sha256).approvals).toEqual([raise]);
    const sft = done.progress.stages.filter((s) => s.kind === 'sft');
    for (const s of sft) expect(load(s.artifacts[0]!.sha256).approvals).toEqual([raise]);
    const compress = done.progress.stages.find((s) => s.stage === 'compress-teacher')!;
    expect(load(compress.artifacts[0]!.sha256).approvals).toBeUndefined();
    const graph = await walkLineage(sft.map((s) => s.artifacts[0]!.sha256), async (sha) => load(sha));
    expect(toText(graph)).toContain(`approved budget by alice at ${raise.at} (worth it), budget raised to cost 100.00, 1000.0 GPU-hours`);
  }, 180_000);

  it('projects the spend with the planned figures of the stages running, and warns past warn_at of a cap', async () => {
    const id = 'budget-projected';
    let release = () => undefined as void;
    trainingHeld = new Promise<void>((r) => (release = r));
    const recipe = { ...harness.recipe, seed: 51, budget: { cost_usd: 100, gpu_hours: 1000, warn_at: 0.8 } };
    const handle = await startCampaign(env.client, recipe, harness.sha, { id, plannedSpend: { 'train-translator': { cost_usd: 90, gpu_hours: 30 } } });
    await until('the translator to train', async () => (await progress(handle)).stages.find((s) => s.stage === 'train-translator')?.status === 'running');
    const training = (await progress(handle)).budget!;
    expect(training.state).toBe('warning');
    expect(training.projected.cost_usd).toBeCloseTo(training.spent.cost_usd + 90, 9);
    expect(training.projected.gpu_hours).toBeCloseTo(training.spent.gpu_hours + 30, 9);
    expect(training.spent.cost_usd).toBeLessThan(1);
    expect(renderSummary(await progress(handle), 'http://ui')).toContain('  warning: the projected spend is past 80% of a cap; at the cap new stages are held');
    const metadata = await env.client.workflow.getHandle(id).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**Budget warning**: the projected spend is past 80% of a cap.');
    trainingHeld = undefined;
    release();
    const done = await handle.result();
    // Nothing runs at the end: the projection is the spend, far under both caps.
    expect(done.progress.budget).toMatchObject({ state: 'under', raises: [] });
    expect(done.progress.budget!.projected).toEqual(done.progress.budget!.spent);
  }, 120_000);

  it('a recipe without a budget refuses every raise and reports no budget', async () => {
    const id = 'budget-less';
    const handle = await startCampaign(env.client, { ...harness.recipe, seed: 41 }, harness.sha, { id });
    await expect(raiseBudget(env.client, id, { by: 'alice', gpu_hours: 5 })).rejects.toThrow(new ApprovalRefused(`campaign ${id} has no budget: there is nothing to raise`));
    const done = await handle.result();
    expect(done.progress.state).toBe('completed');
    expect(done.progress).not.toHaveProperty('budget');
  }, 120_000);
});
