// Usage: npx tsx bench/corpus-breakdown.ts [pairs]   (default 1,000,000)
// Where corpus building spends its time: every SQL statement the filter and assembly activities run
// on DuckDB, timed, on generated OPUS-format pairs (bench/lib/opus-pairs.ts). bench/corpus.ts gives
// the end-to-end figures against the peers; this is the profile behind them. Prints; asserts nothing.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CorpusDb } from '../activities/corpus/corpus-db';
import { assembleBilingualCorpus, filterOpusPairs } from '../activities/corpus';
import { GenerationKnobs, Recipe } from '../contracts/recipe';
import { writeOpusPairs } from './lib/opus-pairs';

type Timed = 'run' | 'writeParquet' | 'rows';

/** Wraps CorpusDb's statement methods so each call's SQL (its first words) and seconds are kept. */
function timeStatements(): [string, number][] {
  const times: [string, number][] = [];
  const proto = CorpusDb.prototype as unknown as Record<Timed, (sql: string, ...rest: unknown[]) => Promise<unknown>>;
  for (const name of ['run', 'writeParquet', 'rows'] as const) {
    const original = proto[name];
    proto[name] = async function (this: CorpusDb, sql: string, ...rest: unknown[]) {
      const t0 = performance.now();
      try {
        return await original.call(this, sql, ...rest);
      } finally {
        times.push([`${name}: ${sql.replace(/\s+/g, ' ').slice(0, 100)}`, (performance.now() - t0) / 1000]);
      }
    };
  }
  return times;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'hala-corpus-breakdown-'));
  try {
    const opus = path.join(dir, 'opus.parquet');
    await writeOpusPairs(opus, n);
    const times = timeStatements();
    const recipe = Recipe.shape;
    const language = recipe.language.parse({ target: 'ar', target_name: 'Arabic', target_script: 'arabic' }); // the pair this bench's data is in (a recipe has no default target)
    for (const sub of ['filter', 'assemble']) mkdirSync(path.join(dir, sub));
    const t0 = performance.now();
    const filtered = await filterOpusPairs({ opus: { path: opus, label: 'bench' }, language, filters: recipe.stages.shape.filter_opus.parse({}), workDir: path.join(dir, 'filter') });
    const t1 = performance.now();
    await assembleBilingualCorpus({
      opusPairs: { path: filtered.pairsPath, label: 'pairs' },
      teacherTranslations: [],
      language,
      bothDirections: true,
      promptTemplate: GenerationKnobs.shape.prompt_template.parse(undefined),
      seed: 0,
      workDir: path.join(dir, 'assemble'),
    });
    const t2 = performance.now();
    console.log(`${n.toLocaleString('en-US')} pairs: filter ${((t1 - t0) / 1000).toFixed(2)} s, assemble ${((t2 - t1) / 1000).toFixed(2)} s, ${Math.round(n / ((t2 - t0) / 1000)).toLocaleString('en-US')} pairs/s`);
    for (const [what, seconds] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${seconds.toFixed(2).padStart(7)} s  ${what}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
