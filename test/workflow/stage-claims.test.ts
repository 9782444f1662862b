// One computation per stage key across campaigns: two campaigns started together on the same recipe
// and the same store compute each stage key once (the other waits on its claim and takes the
// manifest), a forced campaign computes its own without waiting, and a holder that fails lets the
// waiter compute. Real dev server, real stage cache over one FileStore, recording GPU stand-ins.
import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignInput } from '../../cli/start-campaign';
import { lineageOf } from '../../cli/lineage-source';
import { renderSummary } from '../../cli/summary';
import type { CampaignProgress, StageReport } from '../../contracts/campaign';
import type { Recipe } from '../../contracts/recipe';
import type { campaign } from '../../workflows/campaign';
import { progressQuery } from '../../workflows/definitions';
import { stageWorkflowId } from '../../workflows/fan-out-ids';
import { hubMirror } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import type { Call } from '../support/fake-activities';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';

const gpuNames = new Set(['compress_teacher', 'translate_shard', 'train_sft', 'merge_slerp', 'evaluate_benchmarks', 'score_translation']);
/** `<stage>/<first 16 of its key>` of a call's output prefix (storeLayout.stagePrefix). */
const keyOf = (c: Call) => /\/stages\/([^/]+\/[0-9a-f]{16})/.exec(String(c.input.output_prefix))?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('one computation per stage key across campaigns', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  /** Merge calls of this stage fail (for good) while positive, one call each. */
  let failMerges = 0;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, {
      delayMs: 100,
      fails: (name, input) => name === 'merge_slerp' && String(input.output_prefix).includes('/merge-hala-350m/') && failMerges-- > 0,
      // A slow merge: the campaign behind reaches it while the other still holds it.
      gpu: (fakes) => ({ merge_slerp: async (input) => (await sleep(1500), fakes.merge_slerp(input)) }),
    });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  /**
   * The tiny recipe changed at its first stages and at its students' SFT (the fake corpus SFT reads
   * has the same digest whatever made it), so every stage has a key not yet in the store.
   */
  const changed = (n: number): Recipe => {
    const { stages: s, ...r } = harness.recipe;
    return {
      ...r,
      stages: {
        ...s,
        compress_teacher: { ...s.compress_teacher, check_rows: 64 + n },
        filter_opus: { ...s.filter_opus, max_chars: 400 + n },
        sft: { ...s.sft, students: s.sft.students.map((student) => ({ ...student, epochs: student.epochs + n })) },
      },
    };
  };
  const start = (id: string, recipe: Recipe, useCache = true) =>
    env.client.workflow.start<typeof campaign>('campaign', { taskQueue: recipe.queues.cpu, workflowId: id, args: [campaignInput(recipe, harness.sha, { id, useCache })] });
  /** A campaign's stages once it has ended (a campaign with a failed stage fails, and answers the query still). */
  const progressOf = (id: string): Promise<CampaignProgress> => env.client.workflow.getHandle<typeof campaign>(id).query(progressQuery);
  /** A workflow's current details, as the UI reads them (its metadata query); '' before it starts. */
  const currentDetailsOf = (id: string) =>
    env.client.workflow.getHandle(id).query<{ currentDetails?: string }>('__temporal_workflow_metadata').then((m) => m.currentDetails ?? '', () => '');
  /** The workflow types and activity types a stage workflow started, from its history. */
  const commandsOf = async (campaignId: string, stage: string) => {
    const events = (await env.client.workflow.getHandle(stageWorkflowId(campaignId, stage)).fetchHistory()).events ?? [];
    return [
      ...events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
      ...events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? []),
    ];
  };
  /** GPU calls by stage key, and closeStage calls (computations) by stage key, since call `from`. */
  const tally = (from: number) => {
    const calls = harness.fakes.calls.slice(from);
    const count = (list: (string | undefined)[]) => list.reduce((m, k) => m.set(k ?? '?', (m.get(k ?? '?') ?? 0) + 1), new Map<string, number>());
    const gpu = calls.filter((c) => gpuNames.has(c.name));
    const closes = calls.filter((c) => c.name === 'closeStage');
    return { gpu: gpu.length, gpuByKey: count(gpu.map(keyOf)), closesByKey: count(closes.map((c) => `${c.input.stage}/${String(c.input.stage_key).slice(0, 16)}`)), closes };
  };
  /** GPU calls one computation of every stage makes: the activity counts each first close recorded. */
  const onceEach = (closes: Call[]) => {
    const first = new Map(closes.map((c) => [c.input.stage_key as string, c] as const).reverse());
    return [...first.values()].flatMap((c) => c.input.activities as { activity: string; count: number }[]).filter((a) => gpuNames.has(a.activity)).reduce((n, a) => n + a.count, 0);
  };

  it('computes each stage key once for two campaigns started together; the other takes it and says who computed it', async () => {
    const from = harness.fakes.calls.length;
    const recipe = changed(1);
    const [a, b] = await Promise.all([start('claim-a', recipe), start('claim-b', recipe)]);
    await Promise.all([a.result(), b.result()]);
    const [pa, pb] = await Promise.all([progressOf('claim-a'), progressOf('claim-b')]);
    const t = tally(from);
    console.log(`two campaigns, one store: ${t.gpu} GPU calls (one computation of each stage: ${onceEach(t.closes)}), ` +
      `${t.closes.length} stage computations for ${t.closesByKey.size} stage keys`);
    expect([...t.closesByKey].filter(([, n]) => n > 1)).toEqual([]);
    expect(t.gpu).toBe(onceEach(t.closes));
    expect([...t.gpuByKey.keys()].filter((k) => k === '?')).toEqual([]);

    // Every stage was computed by exactly one of the two; the other names it.
    const other = { 'claim-a': 'claim-b', 'claim-b': 'claim-a' } as const;
    const byStage = new Map<string, StageReport[]>();
    for (const s of [...pa.stages, ...pb.stages]) byStage.set(s.stage, [...(byStage.get(s.stage) ?? []), s]);
    let waited = 0;
    const computedBy = new Map<string, string>();
    for (const [stage, [sa, sb]] of byStage) {
      expect([sa!.status, sb!.status].sort(), stage).toEqual(['cached', 'completed']);
      const [computed, taken] = sa!.status === 'completed' ? [sa!, sb!] : [sb!, sa!];
      const takenBy = computed === sa ? 'claim-b' : 'claim-a';
      computedBy.set(stage, other[takenBy]);
      expect(taken.computed_by, stage).toBe(other[takenBy]);
      expect(computed.computed_by, stage).toBeUndefined();
      if ((await commandsOf(takenBy, stage)).includes('awaitStageClaim')) waited++;
    }
    // Started together, they met on the claim of at least the first stages (not only on finished manifests).
    expect(waited).toBeGreaterThan(0);
    // Lineage from either campaign's products names, for every artifact, the campaign that computed it.
    for (const id of ['claim-a', 'claim-b']) {
      const artifacts = (await lineageOf(id, `file://${harness.storeDir}`)).nodes.filter((n) => n.kind === 'artifact');
      expect(artifacts.length).toBeGreaterThan(0);
      expect(artifacts.map((n) => [n.stage, n.campaign_id])).toEqual(artifacts.map((n) => [n.stage, computedBy.get(n.stage!)]));
    }
    // hala status says it on the stage's line.
    const taken = pa.stages.find((s) => s.computed_by) ?? pb.stages.find((s) => s.computed_by)!;
    const line = renderSummary(pa.stages.includes(taken) ? pa : pb, 'http://ui').split('\n').find((l) => l.startsWith(`${taken.stage} `));
    expect(line).toContain(`cached (computed by campaign ${taken.computed_by})`);
  }, 180_000);

  it('lets a forced campaign (--no-cache) compute its own, never waiting on a claim', async () => {
    const from = harness.fakes.calls.length;
    const recipe = changed(2);
    const [a, b] = await Promise.all([start('claim-c', recipe), start('claim-forced', recipe, false)]);
    await Promise.all([a.result(), b.result()]);
    const forced = await progressOf('claim-forced');
    expect(forced.stages.map((s) => [s.stage, s.status, s.forced, s.computed_by])).toEqual(forced.stages.map((s) => [s.stage, 'completed', true, undefined]));
    for (const s of forced.stages) {
      const commands = await commandsOf('claim-forced', s.stage);
      expect(commands.filter((c) => c === 'stageClaim' || c === 'awaitStageClaim' || c === 'stageClaimHolder'), s.stage).toEqual([]);
    }
    // The forced campaign's GPU calls are all its own (under its forced prefixes): one computation of every stage.
    const t = tally(from);
    const forcedGpu = harness.fakes.calls.slice(from).filter((c) => gpuNames.has(c.name) && String(c.input.output_prefix).includes('/forced-'));
    expect(forcedGpu.length).toBe(onceEach(t.closes.filter((c) => c.input.forced)));
  }, 180_000);

  it('stops waiting when the waiting campaign is cancelled; the holder computes on', async () => {
    const from = harness.fakes.calls.length;
    const recipe = changed(4);
    const [a, b] = await Promise.all([start('claim-g', recipe), start('claim-h', recipe)]);
    let waiter = '';
    await until('a merge stage waits', async () => {
      for (const id of ['claim-g', 'claim-h']) if ((await currentDetailsOf(stageWorkflowId(id, 'merge-hala-350m'))).includes('waiting for campaign')) waiter = id;
      return waiter !== '';
    }, 60_000, 100);
    const [waiting, holding] = waiter === 'claim-g' ? [a, b] : [b, a];
    await waiting.cancel();
    await waiting.result().catch(() => undefined);
    await holding.result();
    const merge = (await progressOf(waiter)).stages.find((s) => s.stage === 'merge-hala-350m')!;
    expect(merge.status).toBe('cancelled');
    // The wait was cancelled with its stage (heartbeats carry it to the activity), not left polling.
    const events = (await env.client.workflow.getHandle(stageWorkflowId(waiter, 'merge-hala-350m')).fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
    const holderMerge = (await progressOf(waiter === 'claim-g' ? 'claim-h' : 'claim-g')).stages.find((s) => s.stage === 'merge-hala-350m')!;
    expect(holderMerge.status).toBe('completed');
    expect(harness.fakes.calls.slice(from).filter((c) => c.name === 'merge_slerp' && String(c.input.output_prefix).includes('/merge-hala-350m/'))).toHaveLength(1);
  }, 180_000);

  it('lets the waiter compute when the holder fails', async () => {
    const from = harness.fakes.calls.length;
    failMerges = 1;
    const recipe = changed(3);
    const [a, b] = await Promise.all([start('claim-e', recipe), start('claim-f', recipe)]);
    // While it waits, the waiter's page (its current details, what the UI shows) names the holder.
    const pages: string[] = [];
    await until('a merge stage says whom it waits for', async () => {
      pages.push(...(await Promise.all(['claim-e', 'claim-f'].map((id) => currentDetailsOf(stageWorkflowId(id, 'merge-hala-350m'))))));
      return pages.some((p) => p.includes('waiting for campaign claim-'));
    }, 60_000, 100);
    await Promise.all([a.result().catch(() => undefined), b.result().catch(() => undefined)]);
    const [pe, pf] = await Promise.all([progressOf('claim-e'), progressOf('claim-f')]);
    const merge = (p: CampaignProgress) => p.stages.find((s) => s.stage === 'merge-hala-350m')!;
    const statuses = [merge(pe).status, merge(pf).status].sort();
    expect(statuses).toEqual(['completed', 'failed']);
    const [holder, waiter] = merge(pe).status === 'failed' ? ['claim-e', 'claim-f'] : ['claim-f', 'claim-e'];
    expect(pages.find((p) => p.includes('waiting for campaign'))).toContain(`waiting for campaign ${holder}, which is computing stage key`);
    expect(merge(holder === 'claim-e' ? pe : pf).error_type).toBe('RunnerFailed');
    // The waiter waited on the holder's claim, then claimed the key itself and computed it.
    const commands = await commandsOf(waiter, 'merge-hala-350m');
    expect(commands.filter((c) => c === 'awaitStageClaim')).toHaveLength(1);
    expect(commands.filter((c) => c === 'stageClaim')).toHaveLength(2);
    expect(merge(waiter === 'claim-e' ? pe : pf).computed_by).toBeUndefined();
    const t = tally(from);
    const mergeKey = [...t.closesByKey.keys()].find((k) => k.startsWith('merge-hala-350m/'))!;
    expect(t.closesByKey.get(mergeKey)).toBe(1);
    expect(harness.fakes.calls.slice(from).filter((c) => c.name === 'merge_slerp' && String(c.input.output_prefix).includes('/merge-hala-350m/'))).toHaveLength(2);
  }, 180_000);
});
