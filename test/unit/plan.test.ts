// `hala plan`: the campaign sized before any spend, from the recipe's estimates and what local
// sources say about themselves (parquet footers, safetensors headers).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../cli/recipe-file';
import { planCampaign } from '../../cli/plan/estimate';
import { measureLocalSources } from '../../cli/plan/measure';
import { renderPlan } from '../../cli/plan/render';
import type { Recipe } from '../../contracts/recipe';

const root = path.join(__dirname, '../..');
const recipeAt = (file: string): Recipe => {
  const loaded = loadRecipe(path.join(root, file));
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.recipe;
};

describe('hala plan', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'hala-plan-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('sizes the paper recipe as the report does: 1.26M pairs, 4.5M samples, four students, six benchmarks', async () => {
    const plan = await planCampaign(recipeAt('recipes/hala-paper.yaml'));
    expect(plan.bilingual_pairs! / 1.26e6).toBeCloseTo(1, 2);
    expect(plan.translated_samples! / 4.5e6).toBeCloseTo(1, 2);
    expect(plan.students).toEqual(['hala-350m', 'hala-700m', 'hala-1-2b', 'hala-9b']);
    expect(plan.benchmarks).toHaveLength(6);
    expect(plan.gaps).toEqual([]);
    // Every stage has its GPU-hours and cost; the GPU stages cost something, the CPU filter nothing.
    for (const s of plan.stages) expect([s.stage, typeof s.gpu_hours, typeof s.cost]).toEqual([s.stage, 'number', 'number']);
    expect(plan.stages.find((s) => s.stage === 'filter-opus')).toMatchObject({ gpu_hours: 0, cost: 0 });
    const sft9b = plan.stages.find((s) => s.stage === 'sft-hala-9b')!;
    const sft350m = plan.stages.find((s) => s.stage === 'sft-hala-350m')!;
    // Training FLOPs scale with parameters: 8.7B against 0.354B on the same tokens and pool.
    expect(sft9b.gpu_hours! / sft350m.gpu_hours!).toBeCloseTo(8.7 / 0.354, 5);
    expect(plan.totals.gpu_hours).toBeCloseTo(plan.stages.reduce((a, s) => a + s.gpu_hours!, 0), 6);
    // The shards the fan-outs will run: ceil(segments / shard_rows) per instruction set.
    expect(plan.stages.find((s) => s.stage === 'build-bilingual-corpus')?.shards).toBe(Math.ceil(810_000 / 4096));
    const text = renderPlan(plan);
    expect(text).toMatch(/bilingual pairs: 1\.26M; translated samples: 4\.50M/);
    expect(text).toMatch(/students: 4 \(hala-350m, hala-700m, hala-1-2b, hala-9b\); benchmarks: 6 \(AlGhafa, ArabicMMLU, EXAMS, MadinahQA, AraTrust, ArbMMLU-HT\)/);
    expect(text).toMatch(/^sft-hala-9b .* train-h100x8 \(H100-80GB\) +\d+ +\d+$/m);
  });

  it("draws the DAG from the recipe's stage calls and finds its critical path in wall time", async () => {
    const plan = await planCampaign(recipeAt('recipes/hala-paper.yaml'));
    const after = Object.fromEntries(plan.stages.map((s) => [s.stage, s.after]));
    expect(after['compress-teacher']).toEqual([]);
    expect(after['build-bilingual-corpus']).toEqual(['compress-teacher', 'filter-opus']);
    expect(after['evaluate-translator']).toEqual(['train-translator']);
    // A per-student stage reads its own student's stages, never another's.
    expect(after['choose-hala-9b']).toEqual(['sft-hala-9b', 'merge-hala-9b']);
    expect(after['evaluate-hala-9b']).toEqual(['merge-hala-9b', 'sft-hala-9b', 'choose-hala-9b']);
    expect(after['sft-hala-700m']).toEqual(['translate-instructions']);
    // The longest chain goes through the largest student; its hours are each stage's GPU-hours over its worker's GPUs.
    const cp = plan.critical_path!;
    expect(cp.stages).toEqual(['compress-teacher', 'build-bilingual-corpus', 'train-translator', 'translate-instructions', 'sft-hala-9b', 'merge-hala-9b', 'choose-hala-9b', 'evaluate-hala-9b']);
    const recipe = recipeAt('recipes/hala-paper.yaml');
    const gpus = (stage: string) => recipe.resources.classes[plan.stages.find((s) => s.stage === stage)!.resource_class!]!.gpus;
    expect(cp.hours).toBeCloseTo(cp.stages.reduce((h, st) => h + plan.stages.find((s) => s.stage === st)!.gpu_hours! / gpus(st), 0), 6);
    expect(renderPlan(plan)).toMatch(/^ {2}build-bilingual-corpus +← compress-teacher, filter-opus$/m);
    expect(renderPlan(plan)).toMatch(/^critical path: [\d.]+ days of wall time with one worker a stage \(compress-teacher → /m);
  });

  it('reads rows and parameters off local sources; a figure the recipe states wins', async () => {
    const pairs = path.join(work, 'opus.parquet');
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(`COPY (SELECT {'en': 'a' || i, 'ar': 'ب' || i} AS translation FROM range(1234) t(i)) TO '${pairs}' (FORMAT parquet, ROW_GROUP_SIZE 500)`);
    db.closeSync();
    const model = path.join(work, 'model');
    mkdirSync(model);
    writeSafetensors(path.join(model, 'model.safetensors'), { 'embed.weight': [1000, 64], 'lm.bias': [1000] });
    const base = recipeAt('recipes/tiny.yaml');
    // Without the tiny recipe's own OPUS figure (a stated figure wins over a measured one).
    const recipe: Recipe = { ...base, estimates: { ...base.estimates, rows: {} }, inputs: { ...base.inputs, opus: `file://${pairs}`, teacher: `file://${model}` } };
    // No hub mirror (''): only the file:// sources are local.
    const measured = await measureLocalSources(recipe, '');
    expect(measured.rows).toEqual({ opus: 1234 });
    expect(measured.params_b[`file://${model}`]! * 1e9).toBeCloseTo(1000 * 64 + 1000, 6);
    const plan = await planCampaign({ ...recipe, estimates: { ...recipe.estimates, rows: { opus: 99 } } }, measured);
    expect(plan.stages.find((s) => s.stage === 'filter-opus')?.rows_in).toBe(99);
    expect((await planCampaign(recipe, measured)).stages.find((s) => s.stage === 'filter-opus')?.rows_in).toBe(1234);

    // A truncated file is named with its source, as the stage that opens on it would name it.
    truncateSync(path.join(model, 'model.safetensors'), 1000);
    await expect(measureLocalSources(recipe, '')).rejects.toThrow(`file://${model}: ${model}/model.safetensors is 1000 bytes, but its header places tensor data up to byte`);
  });

  it('names each estimate or route a blank figure needs', async () => {
    const tiny = recipeAt('recipes/tiny.yaml');
    const plan = await planCampaign({ ...tiny, estimates: { ...tiny.estimates, rows: {} } });
    expect(plan.gaps).toContain('estimates.rows.opus: rows of input opus');
    expect(plan.gaps).toContain('resources.sft: route it to a class of resources.classes (gpu_type, price_per_gpu_hour) for its GPU-hours and cost');
    expect(plan.totals.gpu_hours).toBeUndefined();
    expect(renderPlan(plan)).toMatch(/Figures shown — need what the recipe does not give:\n {2}estimates\./);
  });

  it('npx hala plan prints it; --json gives the same plan', async () => {
    const run = (...args: string[]) => execFileSync('npx', ['--no-install', 'hala', 'plan', 'recipes/hala-paper.yaml', ...args], { cwd: root, encoding: 'utf8' });
    expect(run()).toContain('bilingual pairs: 1.26M; translated samples: 4.50M');
    expect(JSON.parse(run('--json'))).toEqual(JSON.parse(JSON.stringify(await planCampaign(recipeAt('recipes/hala-paper.yaml')))));
  });
});

/** A safetensors file of float32 zeros with these shapes: an 8-byte header length, the JSON header, the data. */
function writeSafetensors(file: string, shapes: Record<string, number[]>): void {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = shape.reduce((a, d) => a * d, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([size, json, Buffer.alloc(offset)]));
}
