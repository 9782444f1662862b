// The campaign DAG on the real Temporal dev server: child workflow ids and parentage,
// concurrency of independent stages, the stage cache, pause/resume and the progress query.
// Data-plane and GPU activities are recording stand-ins (test/support/fake-activities.ts);
// the stage cache and report activities are the real ones over a temporary FileStore.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageReport } from '../../contracts/campaign';
import type { Recipe } from '../../contracts/recipe';
import { campaignInput } from '../../cli/start-campaign';
import { pauseSignal, progressQuery, resumeSignal } from '../../workflows/definitions';
import type { campaign } from '../../workflows/campaign';
import { overlapped, type Call } from '../support/fake-activities';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { lineageOf } from '../../cli/lineage-source';
import { stageGraph } from '../../workflows/stages/plan';
import type { StageInput } from '../../workflows/stages/declaration';
import { toDot, toMermaid } from '../../cli/lineage';
import { createLocalEnv } from '../support/temporal-env';
import { directoryManifest } from '../../activities/store';
import { hubMirror } from '../../platform/python-env';

const gpuNames = ['compress_teacher', 'translate_shard', 'train_sft', 'merge_slerp', 'evaluate_benchmarks', 'score_translation'];

describe('campaign workflow', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let storeDir: string;
  let recipe: Recipe;
  let sha: string;
  let fakes: CampaignHarness['fakes'];
  /** The stage whose training fails for good, while set. */
  let failing: string | undefined;

  beforeAll(async () => {
    // openStage digests the recipe's hf:// sources: from the tiny world's offline mirror, never the network.
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    // Independent stages run at once: their calls wait for each other (in a sequential DAG they could not).
    harness = await startCampaignHarness(env, {
      fails: (name, input) => failing !== undefined && name === 'train_sft' && String(input.output_prefix).includes(`/stages/${failing}/`),
      meet: [
        { count: 2, when: (name) => name === 'compress_teacher' || name === 'filterOpus' },
        { count: 3, when: (name, input) => name === 'train_sft' && String(input.output_prefix).includes('/sft-') },
      ],
    });
    ({ recipe, sha, storeDir, fakes } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  const start = (id: string, r: Recipe = recipe, options: { useCache?: boolean; rerun?: string[] } = {}) =>
    env.client.workflow.start<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: id, args: [campaignInput(r, sha, { id, ...options })] });
  const callsOf = (stage: string, from: number) => fakes.calls.slice(from).filter((c) => String(c.input.output_prefix).includes(`/stages/${stage}/`));

  it('runs every stage as a child workflow of the campaign, independent stages at once', async () => {
    const handle = await start('wf-first');
    const result = await handle.result();
    const stages = result.progress.stages;
    expect(stages.map((s) => s.status)).toEqual(stages.map(() => 'completed'));
    expect(stages.map((s) => s.stage)).toContain('merge-hala-700m');

    const child = await env.client.workflow.getHandle('wf-first/compress-teacher').describe();
    expect(child.parentExecution?.workflowId).toBe('wf-first');
    const fanOut = await env.client.workflow.getHandle('wf-first/build-bilingual-corpus/translate').describe();
    expect(fanOut.parentExecution?.workflowId).toBe('wf-first/build-bilingual-corpus');

    const found: string[] = [];
    for await (const wf of env.client.workflow.list({ query: 'HalaCampaign = "wf-first" AND HalaStage = "merge-hala-700m"' })) found.push(wf.workflowId);
    expect(found).toEqual(['wf-first/merge-hala-700m']);
    const merged = await env.client.workflow.getHandle('wf-first/merge-hala-700m').describe();
    expect(merged.memo?.stage_key).toBe(stages.find((s) => s.stage === 'merge-hala-700m')!.stage_key);

    const first = (name: string) => fakes.calls.find((c) => c.name === name)!;
    expect(overlapped(first('compress_teacher'), first('filterOpus'))).toBe(true);
    const sfts = fakes.calls.filter((c) => c.name === 'train_sft' && String(c.input.output_prefix).includes('/sft-'));
    expect(sfts).toHaveLength(3);
    expect(overlapped(sfts[0]!, sfts[1]!) && overlapped(sfts[1]!, sfts[2]!)).toBe(true);
    // They reach the train queue in the recipe's order, largest first (workflows/listed-order.ts).
    const stageOf = (c: Call) => String(c.input.output_prefix).split('/stages/')[1]!.split('/')[0];
    expect([...sfts].sort((a, b) => a.start - b.start).map(stageOf)).toEqual(recipe.stages.sft.students.map((s) => `sft-${s.name}`));
  });

  it('records lineage from every merged model back to the teacher, OPUS-100 and Open-Orca', async () => {
    const graph = await lineageOf('wf-first', `file://${storeDir}`);
    const sources = graph.nodes.filter((n) => n.kind === 'source').map((n) => n.uri);
    expect(sources).toEqual(expect.arrayContaining([recipe.inputs.teacher, recipe.inputs.opus, recipe.inputs.open_orca]));
    expect(graph.nodes.filter((n) => n.kind === 'unknown')).toEqual([]);
    const stages = new Set(graph.nodes.map((n) => n.stage));
    for (const s of ['compress-teacher', 'filter-opus', 'build-bilingual-corpus', 'train-translator', 'translate-instructions', 'sft-hala-350m', 'merge-hala-350m']) {
      expect(stages.has(s)).toBe(true);
    }
    expect(toMermaid(graph)).toMatch(/^graph LR\n/);
    expect(toDot(graph)).toContain('shape=cylinder');
  });

  it("reads each stage's artifacts from exactly the stages the recipe's stage calls hand it (the DAG hala plan draws)", async () => {
    // From every stage's artifacts: the campaign's products do not lead back to the translator's evaluation.
    const { progress } = await env.client.workflow.getHandle<typeof campaign>('wf-first').result();
    const graphs = await Promise.all(progress.stages.flatMap((s) => s.artifacts.map((a) => lineageOf(a.sha256, `file://${storeDir}`))));
    const stageOf = new Map(graphs.flatMap((g) => g.nodes).filter((n) => n.kind === 'artifact').map((n) => [n.id, n.stage!]));
    const parents = new Map<string, Set<string>>();
    for (const { from, to } of graphs.flatMap((g) => g.edges)) {
      const [parent, child] = [stageOf.get(from), stageOf.get(to)];
      if (parent === undefined || child === undefined || parent === child) continue;
      parents.set(child, (parents.get(child) ?? new Set()).add(parent));
    }
    // A stage that makes no artifact (the translator's evaluation) has no lineage record: the
    // parents the campaign handed its workflow say what it read.
    for (const s of progress.stages.filter((x) => x.artifacts.length === 0)) {
      const history = await env.client.workflow.getHandle(`wf-first/${s.stage}`).fetchHistory();
      const input = defaultPayloadConverter.fromPayload<StageInput<unknown, unknown>>(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!);
      parents.set(s.stage, new Set(input.parents!.map((p) => p.stage)));
    }
    const declared = await stageGraph(recipe);
    expect([...parents.keys()].sort()).toEqual(declared.filter((s) => s.after.length > 0).map((s) => s.stage).sort());
    for (const { stage, after } of declared) expect([stage, [...(parents.get(stage) ?? [])].sort()]).toEqual([stage, [...after].sort()]);
  });

  it('gives every source parent its digest and every producer its GPU activities', async () => {
    const graph = await lineageOf('wf-first', `file://${storeDir}`);
    const sources = graph.nodes.filter((n) => n.kind === 'source');
    expect(sources.filter((n) => !/^[0-9a-f]{64}$/.test(n.sha256 ?? ''))).toEqual([]);
    // The teacher is a model repo: its digest is the store's directory manifest digest of the mirror copy.
    const teacher = await directoryManifest(path.join(process.env.HALA_HUB_MIRROR!, 'hala-tiny', 'command-a-translate'));
    expect(sources.find((n) => n.uri === recipe.inputs.teacher)?.sha256).toBe(teacher.sha256);

    const byStage = (stage: string) => graph.nodes.find((n) => n.stage === stage)!;
    const summary = (stage: string) => byStage(stage).activities?.map((a) => `${a.activity} ${a.count} ${a.attempts}`);
    expect(summary('compress-teacher')).toEqual(['compress_teacher 1 1', 'score_translation 2 2', 'translate_shard 2 2']);
    expect(summary('build-bilingual-corpus')).toEqual(['translate_shard 3 3']); // one per fake shard
    expect(summary('merge-hala-350m')).toEqual(['merge_slerp 1 1']);
    expect(summary('filter-opus')).toEqual([]); // CPU only
    expect(byStage('compress-teacher').gpu_seconds).toBeGreaterThan(0);
  });

  it('answers a rerun of the same recipe from stage manifests, without a GPU activity', async () => {
    const before = fakes.calls.length;
    const result = await (await start('wf-cached')).result();
    const newCalls = fakes.calls.slice(before).map((c) => c.name);
    expect(newCalls.filter((n) => gpuNames.includes(n))).toEqual([]);
    expect(result.progress.stages.every((s) => s.status === 'cached')).toBe(true);
  });

  it("re-runs only one student's sft, merge and evaluate when its learning rate changes", async () => {
    const students = recipe.stages.sft.students.map((s, i) => (i === 1 ? { ...s, learning_rate: s.learning_rate * 2 } : s));
    const changed: Recipe = { ...recipe, stages: { ...recipe.stages, sft: { students } } };
    const result = await (await start('wf-one-knob', changed)).result();
    const ran = result.progress.stages.filter((s) => s.status === 'completed').map((s) => s.stage);
    expect(ran.sort()).toEqual(['choose-hala-700m', 'evaluate-hala-700m', 'merge-hala-700m', 'sft-hala-700m']);
  });

  it('recomputes every stage under a fresh prefix with --no-cache, and records that it was forced', async () => {
    const before = fakes.calls.length;
    const result = await (await start('wf-no-cache', recipe, { useCache: false })).result();
    expect(result.progress.stages.map((s) => [s.stage, s.status, s.forced])).toEqual(result.progress.stages.map((s) => [s.stage, 'completed', true]));
    // None of the earlier prefixes: nothing an earlier run left there is adopted.
    const train = callsOf('train-translator', before).find((c) => c.name === 'train_sft')!;
    expect(String(train.input.output_prefix)).toMatch(/\/stages\/train-translator\/[0-9a-f]{16}\/forced-[0-9a-f-]{36}$/);
    // The key is the same work's (the stand-ins name artifacts after their prefix, so compare the first stages only).
    const first = (await env.client.workflow.getHandle<typeof campaign>('wf-first').result()).progress.stages;
    const key = (stages: StageReport[], name: string) => stages.find((s) => s.stage === name)?.stage_key;
    expect(key(result.progress.stages, 'compress-teacher')).toBe(key(first, 'compress-teacher'));
    const merged = result.progress.stages.find((s) => s.stage === 'merge-hala-350m')!.artifacts[0]!;
    const record = JSON.parse(readFileSync(path.join(storeDir, 'lineage', `${merged.sha256}.json`), 'utf8')) as { forced: boolean };
    expect(record.forced).toBe(true);
  });

  it('--rerun forces exactly the stage named; the rest come from the cache unless their input changed', async () => {
    const before = fakes.calls.length;
    const result = await (await start('wf-rerun', recipe, { rerun: ['sft-hala-350m'] })).result();
    expect(result.progress.stages.filter((s) => s.forced).map((s) => s.stage)).toEqual(['sft-hala-350m']);
    expect(callsOf('sft-hala-350m', before).map((c) => c.name)).toEqual(['train_sft']);
    // The stand-in names its model after its prefix, so the forced model is new and its merge, choice and evaluate follow;
    // every other student and every stage upstream is served from the cache.
    const ran = result.progress.stages.filter((s) => s.status === 'completed').map((s) => s.stage).sort();
    expect(ran).toEqual(['choose-hala-350m', 'evaluate-hala-350m', 'merge-hala-350m', 'sft-hala-350m']);
  });

  it('lets every other branch finish when one student fails, names it, and redoes only its branch on a rerun', async () => {
    const fresh = { ...recipe, seed: 7 }; // new keys: nothing cached
    failing = 'sft-hala-700m';
    const handle = await start('wf-student-fails', fresh);
    const failure = await handle.result().catch((e: unknown) => e as Error);
    failing = undefined;
    expect(String(((failure as Error).cause as Error | undefined)?.message)).toMatch(/^1 stage failed: sft-hala-700m \(RunnerFailed: train_sft: ZeroDivisionError/);
    const progress = await handle.query(progressQuery);
    const status = Object.fromEntries(progress.stages.map((s) => [s.stage, s.status]));
    expect(status).toMatchObject({ 'sft-hala-700m': 'failed', 'merge-hala-700m': 'pending', 'choose-hala-700m': 'pending', 'evaluate-hala-700m': 'pending' });
    for (const s of ['evaluate-translator', 'sft-hala-350m', 'merge-hala-350m', 'evaluate-hala-350m', 'evaluate-hala-1-2b']) expect(status[s], s).toBe('completed');
    expect(progress.stages.find((s) => s.stage === 'sft-hala-700m')).toMatchObject({ error_type: 'RunnerFailed' });
    expect(progress.stages.some((s) => s.status === 'running')).toBe(false);
    // What finished stays auditable: the failed campaign wrote its summary, so its lineage reads.
    const products = (await lineageOf('wf-student-fails', `file://${storeDir}`)).nodes.map((n) => n.stage).filter((x) => x?.startsWith('evaluate-'));
    // Each evaluate stage's products are its three reports: base, SFT and merged.
    expect(products.sort()).toEqual(['evaluate-hala-1-2b', 'evaluate-hala-1-2b', 'evaluate-hala-1-2b', 'evaluate-hala-350m', 'evaluate-hala-350m', 'evaluate-hala-350m']);

    const again = await (await start('wf-student-fixed', fresh)).result();
    const ran = again.progress.stages.filter((s) => s.status === 'completed').map((s) => s.stage).sort();
    expect(ran).toEqual(['choose-hala-700m', 'evaluate-hala-700m', 'merge-hala-700m', 'sft-hala-700m']);
  });

  it('refuses a teacher that is not a model directory at stage open: one attempt, BadInput naming inputs.teacher', async () => {
    const before = fakes.calls.length;
    const bad = { ...recipe, inputs: { ...recipe.inputs, teacher: 'file:///etc/passwd' } };
    const handle = await start('wf-bad-teacher', bad);
    const failure = (await handle.result().catch((e: unknown) => e)) as Error;
    expect(String((failure.cause as Error | undefined)?.message)).toContain('compress-teacher (BadInput: openStage compress-teacher: inputs.teacher = file:///etc/passwd is a file, not a model directory');
    const opens = fakes.calls.slice(before).filter((c) => c.name === 'openStage' && c.input.stage === 'compress-teacher');
    expect(opens).toHaveLength(1); // not retried
    expect(fakes.calls.slice(before).filter((c) => c.name === 'compress_teacher')).toEqual([]); // no GPU woken
    const progress = await handle.query(progressQuery);
    expect(progress.stages.find((s) => s.stage === 'filter-opus')?.status).toMatch(/completed|cached/);
  });

  it('holds new stages while paused and finishes after resume', async () => {
    const noCache = { ...recipe, seed: 99 }; // a new seed: every stage has a new key
    const handle = await start('wf-paused', noCache);
    await handle.signal(pauseSignal);
    await new Promise((r) => setTimeout(r, 1500));
    const paused = await handle.query(progressQuery);
    expect(paused.state).toBe('paused');
    const callsWhilePaused = fakes.calls.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(fakes.calls.length).toBe(callsWhilePaused);
    expect(paused.stages.some((s) => s.status === 'pending')).toBe(true);
    await handle.signal(resumeSignal);
    const result = await handle.result();
    expect(result.progress.state).toBe('completed');
  });
});
