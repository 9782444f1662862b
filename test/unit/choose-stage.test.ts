// The students' choice (stages.choose) and the validation split it chooses on
// (stages.evaluate.validation), stage by stage: what the recipe accepts, what each stage hands its
// GPU activities, who wins and why, and what evaluate keys on. The campaign-level test is
// test/workflow/choose.test.ts; the split itself is gpu-runners/tests/test_benchmark_split.py.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageKey } from '../../activities/stage-key';
import { loadRecipe } from '../../cli/recipe-file';
import type { ArtifactRef } from '../../contracts/artifact';
import type { EvaluateBenchmarksInput, MergeSlerpInput } from '../../contracts/gpu-activities';
import { Recipe } from '../../contracts/recipe';
import { renderSummary } from '../../cli/summary';
import type { StageIo } from '../../workflows/stages/declaration';
import { decide, decisionLine, decisionMetrics, type ScoredCandidate } from '../../workflows/stages/choice';
import { chooseStage } from '../../workflows/stages/choose';
import { evaluateStage } from '../../workflows/stages/evaluate';

function tiny(stages: Record<string, Record<string, unknown>> = {}) {
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  const r = loaded.recipe;
  const merged = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, { ...(r.stages as Record<string, object>)[k], ...v }]));
  return Recipe.safeParse({ ...r, stages: { ...r.stages, ...merged } });
}
const ok = (stages: Record<string, Record<string, unknown>> = {}) => {
  const parsed = tiny(stages);
  if (!parsed.success) throw new Error(parsed.error.message);
  return parsed.data;
};

const art = (name: string, c: string): ArtifactRef => ({ uri: `file:///store/${name}`, sha256: c.repeat(64), kind: 'model', bytes: 1 });
const tuned = art('sft/model', 'a');
const merged = art('merge/model', 'b');
const report: ArtifactRef = { uri: 'file:///r.json', sha256: 'e'.repeat(64), kind: 'report', bytes: 1 };

/** A stage io whose evaluate_benchmarks answers `average(input)` and records every call. */
function fakeIo(average: (i: EvaluateBenchmarksInput) => number) {
  const evaluated: EvaluateBenchmarksInput[] = [];
  const merges: Omit<MergeSlerpInput, 'supervision'>[] = [];
  const io = {
    stage_key: 'k',
    output_prefix: 'file:///store/choose',
    gpu: {
      merge_slerp: async (input: Omit<MergeSlerpInput, 'supervision'>) => {
        merges.push(input);
        return { model: art(`t${input.t}`, String(Math.round(Number(input.t) * 10))), tensors: 1, linear_fallbacks: 0, run: { seconds: 1, gpu_seconds: 1, activity: 'merge_slerp' } };
      },
      evaluate_benchmarks: async (input: EvaluateBenchmarksInput) => {
        evaluated.push(input);
        const a = average(input);
        return { scores: { AlGhafa: a }, average: a, report: { ...report, uri: `${input.output_prefix}/report.json` }, batch_size: 16, oom_halvings: 0, run: { seconds: 1, gpu_seconds: 1, activity: 'evaluate_benchmarks' } };
      },
    },
  } as unknown as StageIo;
  return { io, evaluated, merges };
}

describe('the recipe', () => {
  it('chooses by default, on a fifth of each benchmark, with a sweep of 0.3 and 0.7', () => {
    const r = ok();
    expect(r.stages.choose).toEqual({ enabled: true, sweep: [0.3, 0.7] });
    expect(r.stages.evaluate.validation).toEqual({ fraction: 0.2 });
  });

  it('refuses to choose with no validation split or under lighteval, naming the field and the fix', () => {
    const none = tiny({ evaluate: { validation: { fraction: 0 } } });
    expect(none.success).toBe(false);
    expect(none.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['stages.choose.enabled', expect.stringMatching(/fraction is 0.*stages\.choose\.enabled: false/)]]);
    const lighteval = tiny({ evaluate: { harness: 'lighteval', formulation: 'mcf', chat_template: false } });
    expect(lighteval.success).toBe(false);
    expect(lighteval.error!.issues.find((i) => i.path.join('.') === 'stages.choose.enabled')?.message).toMatch(/harness lighteval.*harness: own, or set stages\.choose\.enabled: false/);
    // Choosing off, both are accepted; a validation fraction above a half is not a held-out part.
    expect(tiny({ choose: { enabled: false }, evaluate: { validation: { fraction: 0 } } }).success).toBe(true);
    expect(tiny({ evaluate: { validation: { fraction: 0.6 } } }).error?.issues[0]?.path.join('.')).toBe('stages.evaluate.validation.fraction');
  });

  it('choosing off, no student has a choose stage', () => {
    expect(chooseStage.count(ok())).toBe(3);
    expect(chooseStage.count(ok({ choose: { enabled: false } }))).toBe(0);
  });
});

describe('the choose stage', () => {
  it('merges the sweep, scores every candidate on the validation part, keeps the best and says why', async () => {
    const r = ok();
    // merged at 0.5 scores best on the validation rows; the test part is never asked for.
    const { io, evaluated, merges } = fakeIo((i) => (i.model === merged.uri ? 44 : i.model === tuned.uri ? 42 : 40));
    const out = await chooseStage.work(io, chooseStage.slice(r, 0), { tuned, merged });
    expect(merges.map((m) => m.t)).toEqual([0.3, 0.7]);
    expect(merges.every((m) => m.tuned === tuned && m.base === 'hf://hala-tiny/lfm2-1.2b')).toBe(true);
    expect(evaluated.map((e) => e.split)).toEqual(Array(4).fill({ part: 'validation', fraction: 0.2 }));
    expect(evaluated.map((e) => e.output_prefix.replace('file:///store/choose/', ''))).toEqual(['validation/sft', 'validation/merged', 'validation/t0.3', 'validation/t0.7']);
    expect(out.output.chosen).toBe('merged');
    expect(out.output.model).toEqual(merged);
    expect(out.output.evidence.uri).toBe('file:///store/choose/validation/merged/report.json');
    expect(out.output.reason).toMatch(/^merged has the best validation average, 44\.00 on 20% of each benchmark's rows \(sft 42\.00, t0\.3 40\.00, t0\.7 40\.00\)$/);
    expect(out.metrics).toMatchObject({ chosen: 1, chosen_t: 0.5, 'val:chosen': 44, 'val:sft': 42, 'val:merged': 44, 'val:t0.3': 40, 'val:t0.7': 40, validation_fraction: 0.2 });
    // Only what it made: the two merges of the sweep and the four validation reports (lineage is filed by digest).
    expect(out.artifacts).toHaveLength(6);
    expect(out.artifacts).not.toContainEqual(tuned);
  });

  it('a merge of the sweep can win; a tie goes to the simpler candidate', async () => {
    const r = ok();
    const sweepWins = await chooseStage.work(fakeIo((i) => (i.model.endsWith('t0.7') ? 50 : 41)).io, chooseStage.slice(r, 0), { tuned, merged });
    expect(sweepWins.output).toMatchObject({ chosen: 't0.7', model: { uri: 'file:///store/t0.7' } });
    expect(sweepWins.metrics).toMatchObject({ chosen: 3, chosen_t: 0.7 });
    const tie = await chooseStage.work(fakeIo(() => 41).io, chooseStage.slice(r, 0), { tuned, merged });
    expect(tie.output).toMatchObject({ chosen: 'sft', model: tuned });
    expect(tie.output.reason).toMatch(/tied with merged, t0\.3, t0\.7, it is the simpler/);
    expect(tie.metrics).toMatchObject({ chosen: 0, chosen_t: 1 });
  });

  it("merges no t twice: the recipe's own t is the merge stage's, and an empty sweep weighs SFT against merged", async () => {
    expect(chooseStage.slice(ok({ choose: { sweep: [0.5, 0.3, 0.3] } }), 0).sweep).toEqual([0.3]);
    const { io, merges, evaluated } = fakeIo(() => 1);
    await chooseStage.work(io, chooseStage.slice(ok({ choose: { sweep: [] } }), 0), { tuned, merged });
    expect(merges).toEqual([]);
    expect(evaluated.map((e) => e.model)).toEqual([tuned.uri, merged.uri]);
  });

  it('its key holds the sweep, the validation fraction and the scoring knobs', () => {
    const key = (r: Recipe) => {
      const slice = chooseStage.slice(r, 0);
      return stageKey({ stage: 'choose-x', config: slice, inputs: chooseStage.inputs(slice, { tuned, merged }, 0).map((i) => (typeof i === 'string' ? i : i.uri)), runner_version: '0' });
    };
    const keys = [ok(), ok({ choose: { sweep: [0.2] } }), ok({ evaluate: { validation: { fraction: 0.3 } } }), ok({ evaluate: { batch_size: 8 } })].map(key);
    expect(new Set(keys).size).toBe(4);
  });
});

describe('evaluate reads the chosen model', () => {
  const up = (chosen?: ArtifactRef) => ({ model: merged, tuned, ...(chosen && { chosen }) });
  const key = (r: Recipe, chosen?: ArtifactRef) => {
    const slice = evaluateStage.slice(r, 0);
    return stageKey({ stage: 'evaluate-x', config: slice, inputs: evaluateStage.inputs(slice, up(chosen), 0).map((i) => (typeof i === 'string' ? i : i.uri)), runner_version: '0' });
  };

  it('on the test part only; another choice is another key', () => {
    const r = ok();
    expect(evaluateStage.slice(r, 0).split).toEqual({ part: 'test', fraction: 0.2 });
    expect(evaluateStage.slice(ok({ choose: { enabled: false }, evaluate: { validation: { fraction: 0 } } }), 0).split).toBeUndefined();
    expect(key(r, tuned)).not.toBe(key(r, merged));
    expect(key(r, merged)).not.toBe(key(r));
    // The decision's record too: evaluate's lineage leads back to the choice through it.
    const slice = evaluateStage.slice(r, 0);
    expect(evaluateStage.inputs(slice, { ...up(tuned), evidence: report }, 0).slice(0, 4)).toEqual([merged.sha256, tuned.sha256, tuned.sha256, report.sha256]);
  });

  it('scores SFT, merged and base on the test rows, and the chosen model once more only when it is a merge of the sweep', async () => {
    const r = ok();
    const sftKept = fakeIo((i) => (i.model === tuned.uri ? 60 : 50));
    const kept = await evaluateStage.work(sftKept.io, evaluateStage.slice(r, 0), up(tuned));
    expect(sftKept.evaluated).toHaveLength(3);
    expect(sftKept.evaluated.every((e) => e.split?.part === 'test')).toBe(true);
    expect(kept.metrics).toMatchObject({ 'chosen:average': 60, 'sft:average': 60, average: 50 });
    const swept = fakeIo((i) => (i.model.endsWith('t0.7') ? 55 : 50));
    const out = await evaluateStage.work(swept.io, evaluateStage.slice(r, 0), up(art('t0.7', '7')));
    expect(swept.evaluated.map((e) => e.output_prefix.replace('file:///store/choose', ''))).toEqual(['', '/base', '/sft', '/chosen']);
    expect(out.metrics['chosen:average']).toBe(55);
    expect(out.artifacts).toHaveLength(4);
  });
});

describe('the decision, read back', () => {
  const scored = (label: string, average: number, t?: number): ScoredCandidate => ({ label, t, average, scores: {}, model: tuned, report });
  it('the summary says which candidate each student keeps and why', () => {
    const d = decide([scored('sft', 42.5), scored('merged', 39.1, 0.5), scored('t0.7', 41, 0.7)], 0.2);
    const metrics = decisionMetrics(d, 0.2);
    expect(decisionLine(metrics)).toBe("keeps sft: validation average 42.50 on 20% of each benchmark's rows vs merged 39.10, t0.7 41.00");
    const text = renderSummary(
      { campaign_id: 'c', state: 'completed', stages: [{ stage: 'choose-hala-350m', kind: 'choose', workflow_id: 'w', status: 'completed', artifacts: [], metrics, forced: false }] },
      'http://ui',
    );
    expect(text).toMatch(/choose-hala-350m +completed .*chosen=0 chosen_t=1 val:chosen=42\.50 val:sft=42\.50 val:merged=39\.10/);
    expect(text).toMatch(/Chosen on the validation split \(scores above are on the test rows only\):\n {2}hala-350m keeps sft: validation average 42\.50/);
  });
});
