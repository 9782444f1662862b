// Recipe checks acting on the real dev server, with the recording stand-ins told to report a broken
// corpus (46 bilingual pairs where the tiny plan has 3,150) and an FP8 teacher that lost 10 chrF++
// points: without checks (the code before them) the translator trains on it anyway; `fail` stops the
// branch before train-translator with the figures; `hold` waits at a gate until approved; `choose`
// builds the corpus with the BF16 teacher, which changes its key, and records why.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveGate } from '../../cli/approve';
import { toText, walkLineage } from '../../cli/lineage';
import { loadRecipe } from '../../cli/recipe-file';
import { startCampaign } from '../../cli/start-campaign';
import { renderSummary } from '../../cli/summary';
import type { CampaignProgress } from '../../contracts/campaign';
import { Check } from '../../contracts/checks';
import { LineageRecord } from '../../contracts/lineage';
import type { Recipe } from '../../contracts/recipe';
import { progressQuery } from '../../workflows/definitions';
import type { campaign } from '../../workflows/campaign';
import { hubMirror } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';
import { writeConversations } from '../support/conversations-parquet';
import { FileStore } from '../../activities/store';

const check = (c: Record<string, unknown>) => Check.parse(c);

describe('recipe checks', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let tinyChecks: Recipe['checks'];

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    const tiny = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
    if (!tiny.ok) throw new Error(tiny.problems.join('\n'));
    tinyChecks = tiny.recipe.checks;
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, {
      delayMs: 1,
      outputs: {
        // A broken OPUS file: 46 pairs reach the bilingual corpus, as real rows (which a hold's gate
        // samples) that differ with the stage key, as a corpus built by another teacher does.
        assembleBilingual: async (i) => ({
          // Tagged by the prefix: two corpora of the same size must not share a digest (and so a lineage record).
          dataset: await writeConversations(new FileStore(`file://${harness.storeDir}`), `${String(i.output_prefix)}/b.parquet`, 20 + (createHash('sha256').update(String(i.output_prefix)).digest()[0]! % 26), createHash('sha256').update(String(i.output_prefix)).digest('hex').slice(0, 8)),
          pairs: 46, examples: 92, by_origin: { opus: 40, open_orca: 6 },
        }),
        // The FP8 teacher scores 10 chrF++ below the BF16 one on the dev set.
        score_translation: (i) => (String(i.output_prefix).endsWith('/check-fp8-score') ? { chrf: 50 } : {}),
      },
    });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const run = (id: string, checks: Recipe['checks']) => startCampaign(env.client, { ...harness.recipe, checks }, harness.sha, { id });
  const progress = (h: WorkflowHandle<typeof campaign>): Promise<CampaignProgress> => h.query(progressQuery);
  const stageOf = (p: CampaignProgress, stage: string) => p.stages.find((s) => s.stage === stage)!;
  /** The translator's training: train_sft below train-translator's prefix. */
  const translatorTrainings = () => harness.fakes.calls.filter((c) => c.name === 'train_sft' && String(c.input.output_prefix).includes('/stages/train-translator/'));
  const lineageOf = (sha: string) => LineageRecord.parse(JSON.parse(readFileSync(path.join(harness.storeDir, 'lineage', `${sha}.json`), 'utf8')));

  it('without checks (the code before them), a 46-pair corpus trains the translator and every student', async () => {
    const done = await (await run('checks-none', [])).result();
    expect(done.progress.state).toBe('completed');
    expect(stageOf(done.progress, 'build-bilingual-corpus').metrics.pairs).toBe(46);
    expect(stageOf(done.progress, 'train-translator').status).toBe('completed');
    expect(translatorTrainings()).toHaveLength(1);
    expect(done.progress.checks).toBeUndefined();
  });

  it("fail (tiny.yaml's checks): build-bilingual-corpus fails CheckFailed with the figures, train-translator never starts", async () => {
    const trainedBefore = translatorTrainings().length;
    const handle = await run('checks-fail', tinyChecks);
    await expect(handle.result()).rejects.toThrow();
    const p = await progress(handle);
    expect(p.state).toBe('failed');
    const corpus = stageOf(p, 'build-bilingual-corpus');
    expect(corpus).toMatchObject({ status: 'failed', error_type: 'CheckFailed' });
    expect(corpus.error).toBe(
      'check corpus-size: build-bilingual-corpus pairs = 46, outside ≥ 1,575, plan 3,150: build-bilingual-corpus failed its check, nothing that reads it starts ' +
        '(its output stays cached: relax the check in the recipe and run again)',
    );
    for (const s of ['train-translator', 'evaluate-translator', 'translate-instructions', 'sft-hala-350m']) expect(stageOf(p, s).status, s).toBe('pending');
    expect(translatorTrainings()).toHaveLength(trainedBefore);
    expect(p.checks?.map((c) => [c.check, c.passed]).sort()).toEqual([['corpus-size', false], ['fp8-parity', false], ['opus-keep-rate', true]]);
    expect(renderSummary(p, 'http://ui')).toContain('check corpus-size: build-bilingual-corpus pairs = 46, outside ≥ 1,575, plan 3,150 → failed build-bilingual-corpus: nothing that reads it started');
  });

  it('hold: a gate opens with the figures, train-translator waits until the check is approved; the held stage came from the cache', async () => {
    const corpusCalls = harness.fakes.calls.filter((c) => c.name === 'assembleBilingual').length;
    const trainedBefore = translatorTrainings().length;
    const hold = check({ name: 'corpus-size', after: 'build-bilingual-corpus', metric: 'pairs', at_least: { of_plan: 0.5 }, action: 'hold' });
    const id = 'checks-hold';
    // With tiny's FP8 choice: the corpus the failed run built (by the BF16 teacher), no translator has trained on it yet.
    const handle = await run(id, [tinyChecks.find((c) => c.name === 'fp8-parity')!, hold]);
    await until('the check to hold', async () => (await progress(handle)).gates?.[0]?.state === 'waiting');
    await new Promise((r) => setTimeout(r, 1000)); // time for anything it (wrongly) would start
    const held = await progress(handle);
    expect(stageOf(held, 'build-bilingual-corpus').status).toBe('cached'); // the failed run's output, reused
    expect(harness.fakes.calls.filter((c) => c.name === 'assembleBilingual')).toHaveLength(corpusCalls);
    expect(stageOf(held, 'train-translator').status).toBe('pending');
    expect(translatorTrainings()).toHaveLength(trainedBefore);
    const gate = held.gates![0]!;
    expect(gate).toMatchObject({ name: 'corpus-size', before: 'train-translator', state: 'waiting' });
    expect(gate.preview!.check).toMatchObject({ check: 'corpus-size', value: 46, at_least: 1575, plan: 3150, passed: false });
    const status = renderSummary(held, 'http://ui');
    expect(status).toContain(`waiting at gate corpus-size before train-translator: hala approve ${id} corpus-size`);
    expect(status).toContain('  check corpus-size: build-bilingual-corpus pairs = 46, outside ≥ 1,575, plan 3,150\n  funnel:');

    const { approval } = await approveGate(env.client, id, 'corpus-size', { by: 'alice', note: 'a small corpus on purpose' });
    const done = await handle.result();
    expect(done.progress.state).toBe('completed');
    expect(translatorTrainings()).toHaveLength(trainedBefore + 1);
    // The approval travels with the stage it released, into its lineage.
    const translator = stageOf(done.progress, 'train-translator').artifacts[0]!;
    expect(lineageOf(translator.sha256).approvals).toEqual([approval]);
  });

  it('choose: an FP8 teacher past the bound hands build-bilingual-corpus the BF16 teacher; its key changes and the decision is in progress, lineage and status', async () => {
    const parity = (at_most: number) => [check({ name: 'fp8-parity', after: 'compress-teacher', metric: 'chrf_drop', at_most, action: 'choose' })];
    // The same compress-teacher (its bound is in no key), judged twice: within 20 points, then not within 2.
    const fp8 = (await (await run('checks-choose-fp8', parity(20))).result()).progress;
    const bf16 = (await (await run('checks-choose-bf16', parity(2))).result()).progress;
    expect(stageOf(fp8, 'compress-teacher').stage_key).toBe(stageOf(bf16, 'compress-teacher').stage_key);
    expect(stageOf(bf16, 'compress-teacher').metrics.chrf_drop).toBe(10);

    const [kept] = fp8.checks!;
    const [chose] = bf16.checks!;
    const fp8Model = stageOf(fp8, 'compress-teacher').artifacts[0]!;
    expect(kept).toMatchObject({ check: 'fp8-parity', value: 10, at_most: 20, passed: true, chosen: { candidate: 'fp8', uri: fp8Model.uri } });
    expect(chose).toMatchObject({ check: 'fp8-parity', value: 10, at_most: 2, passed: false, chosen: { candidate: 'bf16', uri: harness.recipe.inputs.teacher } });
    const fp8Key = stageOf(fp8, 'build-bilingual-corpus').stage_key!;
    const bf16Key = stageOf(bf16, 'build-bilingual-corpus').stage_key!;
    expect(bf16Key).not.toBe(fp8Key);
    // What it keyed on: the FP8 artifact's digest, or the BF16 teacher as a raw source.
    const opened = (key: string) => harness.fakes.calls.find((c) => c.name === 'closeStage' && c.input.stage_key === key)?.input;
    expect(opened(fp8Key)?.inputs).toContain(fp8Model.sha256);
    expect(opened(bf16Key)?.inputs).toContain(harness.recipe.inputs.teacher);
    expect(opened(bf16Key)?.inputs).not.toContain(fp8Model.sha256);
    // The teacher translating Open-Orca is the BF16 one.
    const teacherShards = harness.fakes.calls.filter((c) => c.name === 'translate_shard' && String(c.input.output_prefix).includes(`/build-bilingual-corpus/${bf16Key.slice(0, 16)}/`));
    expect(teacherShards.length).toBeGreaterThan(0);
    for (const c of teacherShards) expect(String(c.input.model)).toMatch(/^hf:\/\/hala-tiny\/command-a-translate(@[0-9a-f]+)?$/);

    // The decision in the corpus's manifest and lineage, and in `hala status`.
    const corpus = stageOf(bf16, 'build-bilingual-corpus').artifacts[0]!;
    // (Recorded by the run that built it: the failed one, which chose the same; a cached stage writes nothing.)
    const { at: _at, ...decision } = chose!;
    expect(lineageOf(corpus.sha256).decisions).toEqual([{ ...decision, at: expect.any(String) }]);
    const lineage = toText(await walkLineage([corpus.sha256], async (sha) => (sha === corpus.sha256 ? lineageOf(sha) : undefined)));
    expect(lineage).toContain('chose bf16 (check fp8-parity: compress-teacher chrf_drop = 10, outside ≤ 2)');
    // And on the campaign's page in the Temporal UI (its current details).
    const metadata = await env.client.workflow.getHandle('checks-choose-bf16').query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toBe(`**Check fp8-parity**: check fp8-parity: compress-teacher chrf_drop = 10, outside ≤ 2 → chose bf16: ${harness.recipe.inputs.teacher}`);
    expect(renderSummary(bf16, 'http://ui')).toContain(`check fp8-parity: compress-teacher chrf_drop = 10, outside ≤ 2 → chose bf16: ${harness.recipe.inputs.teacher}`);
  });

  it('a translator floor after evaluate-translator holds translate-instructions (which otherwise runs beside it) until approved', async () => {
    // The fake translator scores chrF++ 60: under a floor of 70.
    const floor = check({ name: 'translator-floor', after: 'evaluate-translator', metric: 'chrf', at_least: 70, action: 'hold' });
    const id = 'checks-floor';
    const handle = await run(id, [floor]);
    await until('the floor to hold', async () => (await progress(handle)).gates?.[0]?.state === 'waiting');
    await new Promise((r) => setTimeout(r, 1000));
    const held = await progress(handle);
    expect(held.gates![0]).toMatchObject({ name: 'translator-floor', before: 'translate-instructions', preview: { check: { value: 60, at_least: 70, passed: false } } });
    expect(stageOf(held, 'evaluate-translator').status).toMatch(/^(completed|cached)$/);
    expect(stageOf(held, 'translate-instructions').status).toBe('pending');
    const { approval } = await approveGate(env.client, id, 'translator-floor', { by: 'alice' });
    const done = (await handle.result()).progress;
    expect(done.state).toBe('completed');
    const translate = stageOf(done, 'translate-instructions');
    expect(Date.parse(translate.started_at!)).toBeGreaterThanOrEqual(Date.parse(approval.at));
  });
});
