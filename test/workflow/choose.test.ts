// The students' choice on the real campaign workflow (dev server, real stage cache over a FileStore,
// recording GPU stand-ins): each student's choose stage scores SFT, merged and the sweep on the
// validation part of the benchmarks, keeps the best, and evaluate scores it on the test part with
// the chosen model's digest in its key. Three campaigns on one store:
//   A: SFT scores best on the validation rows (the stand-ins' 60 vs 50): every student keeps SFT;
//   B: the sweep is [0.7] and t0.7 scores best: the choice follows, and evaluate runs again under a new key;
//   C: the sweep is [0.2] and SFT scores best again: choose runs (its key holds the sweep), and
//      evaluate reads the same model as in A but a new decision record, so it keys afresh.
// Evaluate's lineage leads back to choose through that record (its evidence), which holds the decision.
import { readFileSync, rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignInput } from '../../cli/start-campaign';
import { renderSummary } from '../../cli/summary';
import { campaignView } from '../../cli/report/campaign-source';
import { gatherReport } from '../../cli/report/gather';
import { renderReportHtml } from '../../cli/report/render-html';
import { FileStore } from '../../activities/store';
import type { CampaignProgress } from '../../contracts/campaign';
import type { EvaluateBenchmarksInput } from '../../contracts/gpu-activities';
import type { Recipe } from '../../contracts/recipe';
import { scoresByModel } from '../../contracts/benchmark-scores';
import { hubMirror } from '../../platform/python-env';
import type { campaign } from '../../workflows/campaign';
import type { ChooseOutput } from '../../workflows/stages/choose';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import type { Call } from '../support/fake-activities';
import { createLocalEnv } from '../support/temporal-env';

const STUDENTS = ['hala-1-2b', 'hala-700m', 'hala-350m']; // the tiny recipe's order: largest first

describe('stages.choose: SFT, merged or the sweep, on the validation split', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  /** The validation average of a candidate (by its label, the last part of its prefix), where a test sets one. */
  let validation: Record<string, number> = {};
  const runs: Record<string, { progress: CampaignProgress; calls: Call[] }> = {};

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, {
      delayMs: 5,
      gpu: (fakes) => ({
        evaluate_benchmarks: async (input) => {
          const out = await fakes.evaluate_benchmarks(input);
          const label = input.split?.part === 'validation' ? input.output_prefix.split('/').pop()! : undefined;
          const average = label === undefined ? undefined : validation[label];
          return average === undefined ? out : { ...out, scores: { AlGhafa: average }, average };
        },
      }),
    });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const run = async (id: string, r: Recipe) => {
    const before = harness.fakes.calls.length;
    const handle = await env.client.workflow.start<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: id, args: [campaignInput(r, harness.sha, { id })] });
    const { progress } = await handle.result();
    runs[id] = { progress, calls: harness.fakes.calls.slice(before) };
    return runs[id]!;
  };
  const stageOf = (id: string, stage: string) => runs[id]!.progress.stages.find((s) => s.stage === stage)!;
  const withSweep = (sweep: number[]): Recipe => ({ ...harness.recipe, stages: { ...harness.recipe.stages, choose: { ...harness.recipe.stages.choose, sweep } } });
  const output = (id: string, student: string) =>
    // The manifest (the cache entry) holds the stage's work: its output, artifacts and metrics.
    (JSON.parse(readFileSync(`${harness.storeDir}/cache/${stageOf(id, `choose-${student}`).stage_key}.json`, 'utf8')) as { output: { output: ChooseOutput } }).output.output;
  const evaluations = (calls: Call[]) => calls.filter((c) => c.name === 'evaluate_benchmarks').map((c) => c.input as unknown as EvaluateBenchmarksInput);

  it('A: every student keeps SFT, the best on the validation rows; evaluate scores it on the test rows only', async () => {
    validation = {};
    const { progress, calls } = await run('choose-a', harness.recipe);
    expect(progress.state).toBe('completed');
    const names = progress.stages.map((s) => s.stage);
    for (const student of STUDENTS) {
      expect(names.indexOf(`choose-${student}`)).toBeGreaterThan(names.indexOf(`merge-${student}`));
      expect(names.indexOf(`choose-${student}`)).toBeLessThan(names.indexOf(`evaluate-${student}`));
      expect(stageOf('choose-a', `choose-${student}`).metrics).toMatchObject({ chosen: 0, chosen_t: 1, 'val:sft': 60, 'val:merged': 50, 'val:t0.3': 50, 'val:t0.7': 50 });
      const decision = output('choose-a', student);
      expect(decision.chosen).toBe('sft');
      expect(decision.candidates.map((c) => [c.label, c.average])).toEqual([['sft', 60], ['merged', 50], ['t0.3', 50], ['t0.7', 50]]);
      expect(decision.model.uri).toContain(`/stages/sft-${student}/`);
      expect(decision.reason).toMatch(/^sft has the best validation average, 60\.00/);
      // Lineage: each validation report records the decision (the stage's metrics) and what it weighed (SFT and merged digests).
      const lineage = JSON.parse(readFileSync(`${harness.storeDir}/lineage/${decision.candidates[0]!.report.sha256}.json`, 'utf8')) as { stage: string; metrics: Record<string, number>; parents: { sha256: string }[] };
      expect(lineage).toMatchObject({ stage: `choose-${student}`, metrics: { chosen: 0, 'val:sft': 60 } });
      expect(lineage.parents.map((p) => p.sha256)).toEqual(expect.arrayContaining([decision.candidates[0]!.model.sha256, decision.candidates[1]!.model.sha256]));
      // Evaluate benchmarks base, SFT and merged; the chosen model is SFT, whose scores it shares.
      expect(scoresByModel(stageOf('choose-a', `evaluate-${student}`).metrics)).toMatchObject({ chosen: { average: 60 }, sft: { average: 60 }, merged: { average: 50 }, base: { average: 25 } });
    }
    // Choose asks for the validation part only, evaluate for the test part only: never the same rows.
    const all = evaluations(calls);
    const chose = all.filter((e) => e.output_prefix.includes('/stages/choose-'));
    const evaluated = all.filter((e) => e.output_prefix.includes('/stages/evaluate-'));
    expect(chose).toHaveLength(STUDENTS.length * 4);
    expect(evaluated).toHaveLength(STUDENTS.length * 3);
    expect(new Set(chose.map((e) => JSON.stringify(e.split)))).toEqual(new Set([JSON.stringify({ part: 'validation', fraction: 0.2 })]));
    expect(new Set(evaluated.map((e) => JSON.stringify(e.split)))).toEqual(new Set([JSON.stringify({ part: 'test', fraction: 0.2 })]));
    // The sweep's merges are the choose stage's own (two per student), beside the merge stage's one.
    expect(calls.filter((c) => c.name === 'merge_slerp' && String(c.input.output_prefix).includes('/stages/choose-')).map((c) => c.input.t).sort()).toEqual([0.3, 0.3, 0.3, 0.7, 0.7, 0.7]);
    const summary = renderSummary(progress, 'http://ui');
    expect(summary).toMatch(/Chosen on the validation split \(scores above are on the test rows only\):\n {2}hala-1-2b keeps sft: validation average 60\.00 on 20% of each benchmark's rows vs merged 50\.00, t0\.3 50\.00, t0\.7 50\.00/);
    // hala report, from the ended campaign's summary: the chosen series and why, per student.
    const store = new FileStore(`file://${harness.storeDir}`);
    const data = await gatherReport(await campaignView('choose-a', store, () => Promise.reject(new Error('read from the summary'))), store);
    expect(data.benchmarks.map((b) => [b.student, b.series.chosen, b.choice?.slice(0, 40)])).toEqual(STUDENTS.map((s) => [s, { AlGhafa: 60 }, 'keeps sft: validation average 60.00 on 2']));
    expect(renderReportHtml(data)).toContain("<td>chosen (keeps sft: validation average 60.00 on 20% of each benchmark&#39;s rows");
  }, 300_000);

  it('B: when a merge of the sweep scores best, the choice follows it and evaluate runs again under a new key', async () => {
    validation = { 't0.7': 70 };
    const { progress, calls } = await run('choose-b', withSweep([0.7]));
    expect(progress.state).toBe('completed');
    for (const student of STUDENTS) {
      expect(stageOf('choose-b', `sft-${student}`).status).toBe('cached');
      expect(stageOf('choose-b', `choose-${student}`)).toMatchObject({ status: 'completed', metrics: { chosen: 2, chosen_t: 0.7, 'val:chosen': 70 } });
      expect(output('choose-b', student).model.uri).toContain(`/stages/choose-${student}/`);
      const evaluate = stageOf('choose-b', `evaluate-${student}`);
      expect(evaluate.status).toBe('completed');
      expect(evaluate.stage_key).not.toBe(stageOf('choose-a', `evaluate-${student}`).stage_key);
      // Scored once more, as the chosen model, on the test rows.
      expect(scoresByModel(evaluate.metrics).chosen).toEqual({ AlGhafa: 50, average: 50 });
    }
    const chosenRuns = evaluations(calls).filter((e) => e.output_prefix.endsWith('/chosen'));
    expect(chosenRuns).toHaveLength(STUDENTS.length);
    expect(chosenRuns.every((e) => e.split?.part === 'test' && e.model.includes('/stages/choose-') && e.model.endsWith('/t0.7/model'))).toBe(true);
    // The chosen digest is what changed evaluate's key: it is among the stage's inputs.
    const opened = calls.filter((c) => c.name === 'openStage' && c.input.stage === 'evaluate-hala-350m')[0]!;
    expect(opened.input.inputs).toContain(output('choose-b', 'hala-350m').model.sha256);
  }, 300_000);

  it('C: another sweep that keeps SFT again is another decision: evaluate reads the same model under a new key', async () => {
    validation = {};
    const { progress, calls } = await run('choose-c', withSweep([0.2]));
    expect(progress.state).toBe('completed');
    const inputsOf = (id: string, student: string) =>
      runs[id]!.calls.find((c) => c.name === 'openStage' && c.input.stage === `evaluate-${student}`)!.input.inputs as string[];
    for (const student of STUDENTS) {
      expect(stageOf('choose-c', `choose-${student}`)).toMatchObject({ status: 'completed', metrics: { chosen: 0 } });
      expect(stageOf('choose-c', `choose-${student}`).stage_key).not.toBe(stageOf('choose-a', `choose-${student}`).stage_key);
      expect(output('choose-c', student).model).toEqual(output('choose-a', student).model);
      const [a, c] = [inputsOf('choose-a', student), inputsOf('choose-c', student)];
      // The same merged, SFT and chosen models; only the decision's record differs.
      expect(c.filter((x) => !a.includes(x))).toEqual([output('choose-c', student).evidence.sha256]);
      expect(stageOf('choose-c', `evaluate-${student}`).stage_key).not.toBe(stageOf('choose-a', `evaluate-${student}`).stage_key);
    }
    expect(calls.filter((c) => c.name === 'train_sft' || (c.name === 'merge_slerp' && String(c.input.output_prefix).includes('/stages/merge-')))).toEqual([]);
  }, 300_000);

  it('off (stages.choose.enabled: false), no choose stage runs and evaluate reads the merged model as before', async () => {
    const off: Recipe = { ...harness.recipe, stages: { ...harness.recipe.stages, choose: { ...harness.recipe.stages.choose, enabled: false } } };
    const { progress, calls } = await run('choose-off', off);
    expect(progress.state).toBe('completed');
    expect(progress.stages.filter((s) => s.kind === 'choose')).toEqual([]);
    for (const student of STUDENTS) expect(scoresByModel(stageOf('choose-off', `evaluate-${student}`).metrics).chosen).toBeUndefined();
    expect(evaluations(calls).filter((e) => e.output_prefix.endsWith('/chosen'))).toEqual([]);
  }, 300_000);
});
