// stages.evaluate.harness: which scorer the evaluate stage runs, in its key and in what it hands the
// GPU activity. Every scoring knob is in the slice, defaults too: a key says what it scored.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageKey } from '../../activities/stage-key';
import { loadRecipe } from '../../cli/recipe-file';
import type { ArtifactRef } from '../../contracts/artifact';
import type { EvaluateBenchmarksInput } from '../../contracts/gpu-activities';
import { Recipe } from '../../contracts/recipe';
import type { StageIo } from '../../workflows/stages/declaration';
import { evaluateStage } from '../../workflows/stages/evaluate';

function paperInput() {
  const loaded = loadRecipe(path.join(__dirname, '../../recipes/hala-paper.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.recipe;
}

// lighteval's tasks cannot be split to choose on: a recipe on it turns choosing off (its own test below).
const withEvaluate = (knobs: Record<string, unknown>, choose: Record<string, unknown> = knobs.harness === 'lighteval' ? { enabled: false } : {}) => {
  const r = paperInput();
  return Recipe.safeParse({ ...r, stages: { ...r.stages, choose: { ...r.stages.choose, ...choose }, evaluate: { ...r.stages.evaluate, ...knobs } } });
};

function paper(harness?: string, knobs: Record<string, unknown> = {}): Recipe {
  if (harness === undefined && Object.keys(knobs).length === 0) return paperInput();
  const parsed = withEvaluate({ ...(harness ? { harness } : {}), ...knobs });
  if (!parsed.success) throw new Error(parsed.error.message);
  return parsed.data;
}

const model: ArtifactRef = { uri: 'file:///m', sha256: 'a'.repeat(64), kind: 'model', bytes: 1 };
const tuned: ArtifactRef = { uri: 'file:///t', sha256: 'c'.repeat(64), kind: 'model', bytes: 1 };
const up = { model, tuned };

const key = (r: Recipe) => {
  const slice = evaluateStage.slice(r, 0);
  return stageKey({ stage: 'evaluate-x', config: slice, inputs: evaluateStage.inputs(slice, up, 0).map(String), runner_version: '0' });
};

/** What the stage's work hands evaluate_benchmarks. */
async function handed(r: Recipe): Promise<EvaluateBenchmarksInput> {
  let seen: EvaluateBenchmarksInput | undefined;
  const io = {
    stage_key: 'k',
    output_prefix: 'file:///store/evaluate',
    gpu: {
      evaluate_benchmarks: async (input: EvaluateBenchmarksInput) => {
        seen = input;
        return { scores: { a: 50 }, average: 50, report: { uri: 'file:///r.json', sha256: 'b'.repeat(64) }, batch_size: 16, oom_halvings: 0, run: { seconds: 1 } };
      },
    },
  } as unknown as StageIo;
  await evaluateStage.work(io, evaluateStage.slice(r, 0), up);
  return seen!;
}

describe('stages.evaluate.harness', () => {
  it('defaults to own, which the slice (and so the key) names', () => {
    const r = paper();
    expect(r.stages.evaluate.harness).toBe('own');
    expect(evaluateStage.slice(r, 0)).toMatchObject({ harness: 'own', formulation: 'mcf', chat_template: false });
    expect(key(paper('own'))).toBe(key(r));
  });

  it('lighteval is in the key and reaches the activity, as own does', async () => {
    const own = paper();
    const lighteval = paper('lighteval');
    expect(key(lighteval)).not.toBe(key(own));
    expect((await handed(lighteval)).harness).toBe('lighteval');
    expect((await handed(own)).harness).toBe('own');
  });

  it('under lighteval the recipe benchmark files are not sources of the stage (lighteval reads the hub)', () => {
    const own = paper();
    // The merged model, the SFT model, the student's base, then the benchmark files (own only).
    expect(evaluateStage.inputs(evaluateStage.slice(own, 0), up, 0)).toHaveLength(3 + own.inputs.benchmarks.length);
    expect(evaluateStage.inputs(evaluateStage.slice(paper('lighteval'), 0), up, 0)).toEqual(['a'.repeat(64), 'c'.repeat(64), { uri: own.stages.sft.students[0]!.base, field: 'stages.sft.students[0].base', kind: 'model' }]);
  });

  it('rejects a harness it does not know, naming the field and the choices', () => {
    const loaded = loadRecipe(path.join(__dirname, '../../recipes/hala-paper.yaml'));
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const parsed = Recipe.safeParse({ ...loaded.recipe, stages: { ...loaded.recipe.stages, evaluate: { harness: 'lm-eval' } } });
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues.find((i) => i.path.join('.') === 'stages.evaluate.harness');
    expect(issue?.message).toMatch(/own.*lighteval/);
  });
});

describe('stages.evaluate.formulation and chat_template', () => {
  it('default to the leaderboard (mcf, raw prompt), which the activity is told', async () => {
    const r = paper();
    expect(r.stages.evaluate).toMatchObject({ formulation: 'mcf', chat_template: false });
    expect(key(paper(undefined, { formulation: 'mcf', chat_template: false }))).toBe(key(r));
    expect(await handed(r)).toMatchObject({ formulation: 'mcf', chat_template: false });
  });

  it('each is in the key and reaches the activity', async () => {
    const cloze = paper(undefined, { formulation: 'cf' });
    const chat = paper(undefined, { chat_template: true });
    const both = paper(undefined, { formulation: 'cf', chat_template: true });
    expect(new Set([key(paper()), key(cloze), key(chat), key(both)]).size).toBe(4);
    expect(await handed(both)).toMatchObject({ formulation: 'cf', chat_template: true });
    expect(await handed(cloze)).toMatchObject({ formulation: 'cf', chat_template: false });
  });

  it('are refused under lighteval, which scores the leaderboard tasks as the leaderboard does', () => {
    const parsed = withEvaluate({ harness: 'lighteval', formulation: 'cf', chat_template: true });
    expect(parsed.success).toBe(false);
    const messages = Object.fromEntries(parsed.error!.issues.map((i) => [i.path.join('.'), i.message]));
    expect(messages['stages.evaluate.formulation']).toMatch(/harness own only.*mcf, no chat template/);
    expect(messages['stages.evaluate.chat_template']).toMatch(/harness own only/);
  });
});
