// Recipes: the shipped ones validate; a bad one fails with one line per problem naming its path.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipe, parseRecipeText } from '../../cli/recipe-file';

const root = path.join(__dirname, '../..');
const tiny = readFileSync(path.join(root, 'recipes/tiny.yaml'), 'utf8');
const problems = (text: string) => {
  const r = parseRecipeText(text, 'bad.yaml');
  if (r.ok) throw new Error('expected the recipe to be rejected');
  return r.problems;
};

describe('recipes', () => {
  it.each(['tiny.yaml', 'tiny-fr.yaml', 'hala-paper.yaml'])('%s validates', (file) => {
    const r = loadRecipe(path.join(root, 'recipes', file));
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it('paper recipe carries the report ids and figures', () => {
    const r = loadRecipe(path.join(root, 'recipes/hala-paper.yaml'));
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.recipe.inputs.teacher).toBe('hf://CohereLabs/command-a-translate-08-2025');
    expect(r.recipe.stages.train_translator.base).toBe('hf://LiquidAI/LFM2-1.2B');
    expect(r.recipe.stages.sft.students.map((s) => s.base)).toEqual([
      'hf://LiquidAI/LFM2-350M', 'hf://LiquidAI/LFM2-700M', 'hf://LiquidAI/LFM2-1.2B', 'hf://QCRI/Fanar-1-9B-Instruct',
    ]);
    expect(r.recipe.stages.merge.t).toBe(0.5);
    expect(r.recipe.stages.compress_teacher.scheme).toBe('FP8_DYNAMIC');
    expect(r.recipe.inputs.benchmarks.map((b) => b.format)).toEqual(['alghafa', 'arabic_mmlu', 'exams', 'madinah_qa', 'aratrust', 'arbmmlu_ht']);
  });

  it('fills documented defaults', () => {
    const r = parseRecipeText(tiny, 'tiny.yaml');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.recipe.queues.train).toBe('hala-gpu-train');
    expect(r.recipe.stages.merge.colinear_threshold).toBe(0.9995);
    expect(r.recipe.generation.translator.prompt_template).toBe('Translate everything that follows into {target_name}:\n\n{text}');
  });

  it('names the path, the rule and the value of a bad knob', () => {
    const bad = tiny.replace('{ name: hala-700m, base: hf://hala-tiny/lfm2-700m, learning_rate: 0.003', '{ name: hala-700m, base: hf://hala-tiny/lfm2-700m, learning_rate: -1');
    expect(problems(bad)).toEqual(['stages.sft.students[1].learning_rate must be > 0 (got -1)']);
  });

  it('bounds the share of rows a translation may quarantine: 0.001 unless set, a fraction', () => {
    const r = parseRecipeText(tiny, 'tiny.yaml');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect([r.recipe.generation.teacher.max_error_rate, r.recipe.generation.translator.max_error_rate]).toEqual([0.001, 0.001]);
    const bad = tiny.replace('teacher: { batch_size: 32, max_new_tokens: 96 }', 'teacher: { batch_size: 32, max_new_tokens: 96, max_error_rate: 5 }');
    expect(problems(bad)).toEqual(['generation.teacher.max_error_rate must be <= 1 (got 5)']);
  });

  it('reports every problem at once: types, enums, unknown keys, missing fields, bad URIs', () => {
    const bad = tiny
      .replace('fan_out: { window: 2 }', 'fan_out: { window: "two", windw: 3 }')
      .replace('format: alghafa', 'format: alghafa2')
      .replace('teacher: hf://hala-tiny/command-a-translate', 'teacher: ftp://x/y')
      .replace('  merge: { t: 0.5 }\n', '  merge: { t: 1.5 }\n')
      .replace(/ {2}translation_dev: .*\n/, '');
    expect(problems(bad).sort()).toEqual([
      'inputs.benchmarks[0].format must be one of "alghafa", "arabic_mmlu", "exams", "madinah_qa", "aratrust", "arbmmlu_ht", "mmlu" (got "alghafa2")',
      'inputs.teacher must be an hf://, file:// or s3:// URI (got "ftp://x/y")',
      'inputs.translation_dev is required (expected string)',
      'stages.merge.t must be <= 1 (got 1.5)',
      'fan_out.window must be number (got "two")',
      'fan_out.windw is not a known setting (check its spelling)',
    ].sort());
  });

  it('rejects a columns instruction set without its column mapping, and duplicate students', () => {
    const bad = tiny
      .replace('format: open_orca }', 'format: columns }')
      .replace('name: hala-700m', 'name: hala-350m');
    expect(problems(bad)).toEqual([
      'inputs.instruction_sets[0].columns is required when format is columns ({user, assistant}) (missing)',
      'stages.sft.students[2].name duplicates student "hala-350m" (got "hala-350m")',
    ]);
  });

  it('takes turns_column on turn-list formats only, and exclude_sources as a non-empty list', () => {
    const bad = tiny
      .replace('format: open_orca }', 'format: open_orca, turns_column: items }')
      .replace('format: sharegpt, drop_code: true }', 'format: sharegpt, drop_code: true, turns_column: items, exclude_sources: [] }');
    expect(problems(bad)).toEqual([
      'inputs.instruction_sets[1].exclude_sources must have >= 1 items (got [])',
      'inputs.instruction_sets[0].turns_column only applies to the turn-list formats sharegpt and messages (format is open_orca) (got "items")',
    ]);
  });

  it('checks resource routes: declared classes, real students, and models and trainings that fit their pool', () => {
    const routed = `${tiny}
resources:
  classes:
    one-gpu: { queue: hala-gpu-infer, gpus: 1 }
  teacher: one-gpu
  sft: two-gpus
  students: { hala-9b: one-gpu, hala-350m: one-gpu }
`
      .replace('teacher: { batch_size: 32, max_new_tokens: 96 }', 'teacher: { batch_size: 32, max_new_tokens: 96, tensor_parallel_size: 8 }')
      .replace('{ name: hala-350m, base: hf://hala-tiny/lfm2-350m,', '{ name: hala-350m, gpus: 2, base: hf://hala-tiny/lfm2-350m,');
    expect(problems(routed).sort()).toEqual([
      'generation.teacher.tensor_parallel_size is 8, but class "one-gpu" (resources.teacher) has 1 GPU(s) per worker: route the teacher to a class with at least 8 (got 8)',
      'resources.sft names class "two-gpus", which resources.classes does not declare (declared: one-gpu) (got "two-gpus")',
      'resources.students.hala-9b is not a student of stages.sft.students (hala-1-2b, hala-700m, hala-350m) (got "one-gpu")',
      'stages.sft.students[2].gpus is 2, but its class (resources.students.hala-350m) has 1 GPU(s) per worker: lower gpus or route it to a class with at least 2 (got 2)',
    ].sort());
  });

  it('routes the paper recipe: the 111B teacher to an 8-GPU pool, the translator to one GPU', () => {
    const r = loadRecipe(path.join(root, 'recipes/hala-paper.yaml'));
    if (!r.ok) throw new Error(r.problems.join('\n'));
    const { resources, generation } = r.recipe;
    expect(resources.classes[resources.teacher!]).toMatchObject({ queue: 'hala-gpu-infer-large', gpus: 8 });
    expect(generation.teacher.tensor_parallel_size).toBe(8);
    expect(resources.classes[resources.translator!]).toMatchObject({ queue: 'hala-gpu-infer', gpus: 1 });
  });

  it('reports YAML syntax errors with the file name', () => {
    expect(problems('name: [unclosed')[0]).toMatch(/^bad\.yaml: /);
  });

  it('`hala run` on a malformed recipe exits 2, names every bad field and starts nothing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hala-recipe-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, tiny.replace('learning_rate: 0.003', 'learning_rate: 0').replace('epochs: 8', 'epochs: -2'));
    let status = 0;
    let stderr = '';
    try {
      // An address where nothing listens: a run that got as far as connecting would exit 1, not 2.
      execFileSync('npx', ['tsx', 'cli/hala.ts', 'run', file, '--address', '127.0.0.1:1'], { cwd: root, stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    expect(status).toBe(2);
    expect(stderr).toContain('stages.train_translator.learning_rate must be > 0 (got 0)');
    expect(stderr).toContain('stages.train_translator.epochs must be > 0 (got -2)');
    expect(stderr).toContain('nothing was started');
  });
});
