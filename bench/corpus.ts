// Usage: npx tsx bench/corpus.ts [--quick | --sizes 100000,1000000]
// Corpus building (OPUS filters + exact and near dedup + bilingual assembly, the recipe's defaults)
// at 100K, 1M and 5M generated OPUS pairs (--quick: 100K only): Hala (activities/corpus, in its own
// Node process) against a pandas and a DuckDB-from-Python peer (bench/peers/corpus_*.py, venv from
// scripts/bench-env.sh) on the same file in the same run. Prints pairs/s and the peak RSS of each
// process tree, and whether the three kept sets and assembled corpora are the same; asserts nothing.
// Language identification (recipe language_id) is off in all three: the peers have no identifier,
// so with it on the comparison would not be of the same filters. bench/language-id.ts measures it.
// Internal: `npx tsx bench/corpus.ts --hala OPUS.parquet OUT_DIR` is the Hala child process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { assembleBilingualCorpus, filterOpusPairs } from '../activities/corpus';
import { GenerationKnobs, Recipe } from '../contracts/recipe';
import { type BenchRow, printBenchLine } from './lib/bench-line';
import { describeMachine } from './lib/machine';
import { writeOpusPairs } from './lib/opus-pairs';
import { mib, runMeasured } from './lib/peak-rss';

const SIZES = [100_000, 1_000_000, 5_000_000];
const PEERS = ['pandas', 'duckdb'] as const;
const WITHOUT_LANGUAGE_ID = 'language identification off in all three (the peers have none; bench/language-id.ts measures it)';
type Impl = 'hala' | (typeof PEERS)[number];

/** The Hala child: the two activities' pure functions, as the CPU worker calls them. */
async function halaChild(opus: string, out: string): Promise<void> {
  const t0 = performance.now();
  const recipe = Recipe.shape;
  const language = recipe.language.parse({ target: 'ar', target_name: 'Arabic', target_script: 'arabic' }); // the pair this bench's data is in (a recipe has no default target)
  const filters = recipe.stages.shape.filter_opus.parse({});
  const bilingual = recipe.stages.shape.build_bilingual_corpus.parse({});
  const filterDir = path.join(out, 'filter');
  const assembleDir = path.join(out, 'assemble');
  mkdirSync(filterDir, { recursive: true });
  mkdirSync(assembleDir, { recursive: true });
  const filtered = await filterOpusPairs({ opus: { path: opus, label: 'bench' }, language, filters, workDir: filterDir });
  await assembleBilingualCorpus({
    opusPairs: { path: filtered.pairsPath, label: 'pairs' },
    teacherTranslations: [],
    language,
    bothDirections: bilingual.both_directions,
    promptTemplate: GenerationKnobs.shape.prompt_template.parse(undefined),
    seed: recipe.seed.parse(undefined),
    workDir: assembleDir,
  });
  execFileSync('mv', [filtered.pairsPath, path.join(out, 'pairs.parquet')]);
  execFileSync('mv', [path.join(assembleDir, 'bilingual.parquet'), path.join(out, 'bilingual.parquet')]);
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, kept: filtered.counts.kept }));
}

interface Outcome {
  seconds: number;
  kept: number;
  peakRssBytes: number;
  /** digest of the kept pairs (id, source, target) and of the assembled corpus (id, messages, in file order) */
  digest: string;
}

async function digest(out: string): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const pairs = (await conn.runAndReadAll(
      `SELECT count(*)::VARCHAR || '/' || bit_xor(hash(id::VARCHAR, source, target))::VARCHAR AS d FROM '${out}/pairs.parquet'`)).getRowObjectsJson();
    const corpus = (await conn.runAndReadAll(
      `SELECT count(*)::VARCHAR || '/' || bit_xor(hash(file_row_number, id, messages::VARCHAR))::VARCHAR AS d
       FROM read_parquet('${out}/bilingual.parquet', file_row_number = true)`)).getRowObjectsJson();
    return `${String(pairs[0]?.d)} ${String(corpus[0]?.d)}`;
  } finally {
    conn.closeSync();
  }
}

async function runOne(impl: Impl, opus: string, out: string, python: string): Promise<Outcome> {
  mkdirSync(out, { recursive: true });
  const cmd = impl === 'hala'
    ? [process.execPath, ['--import', 'tsx', __filename, '--hala', opus, out]] as const
    : [python, [path.join(__dirname, 'peers', `corpus_${impl}.py`), opus, out]] as const;
  const m = await runMeasured(cmd[0], [...cmd[1]]);
  if (m.code !== 0) throw new Error(`${impl} failed (exit ${m.code}):\n${m.stderr.slice(-2000)}`);
  const last = JSON.parse(m.stdout.trim().split('\n').at(-1) ?? '{}') as { seconds: number; kept: number };
  return { ...last, peakRssBytes: m.peakRssBytes, digest: await digest(out) };
}

async function main() {
  if (process.argv[2] === '--hala') return halaChild(process.argv[3] as string, process.argv[4] as string);
  const only = process.argv.indexOf('--sizes'); // --sizes 100000,1000000: a subset, e.g. where pandas at 5M does not fit
  const sizes = only > 0 ? (process.argv[only + 1] ?? '').split(',').map(Number) : process.argv.includes('--quick') ? SIZES.slice(0, 1) : SIZES;
  const python = path.join(execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'bench-env.sh')], { encoding: 'utf8' }).trim(), 'bin', 'python');
  const machine = describeMachine();
  console.log(`corpus: ${WITHOUT_LANGUAGE_ID}`);
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-corpus-'));
    try {
      const opus = path.join(dir, 'opus.parquet');
      await writeOpusPairs(opus, n);
      const got = {} as Record<Impl, Outcome>;
      for (const impl of ['hala', ...PEERS] as Impl[]) {
        got[impl] = await runOne(impl, opus, path.join(dir, impl), python);
        const o = got[impl];
        console.log(`corpus ${n} pairs, ${impl}: ${o.seconds.toFixed(1)} s = ${Math.round(n / o.seconds)} pairs/s, ` +
          `peak RSS ${mib(o.peakRssBytes)}, kept ${o.kept}`);
      }
      const same = PEERS.every((p) => got[p].digest === got.hala.digest);
      console.log(`corpus ${n} pairs: the three kept sets and assembled corpora are ${same ? 'the same' : 'NOT the same'} ` +
        `(${(['hala', ...PEERS] as Impl[]).map((i) => `${i} ${got[i].digest}`).join('; ')})`);
      const rate = (i: Impl) => n / got[i].seconds;
      const vsPandas = rate('hala') / rate('pandas');
      const vsDuckdb = rate('hala') / rate('duckdb');
      const label = n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}K`;
      rows.push(
        { figure: `corpus ${label}: pairs/s (vs pandas)`, hala: `${Math.round(rate('hala'))} (${vsPandas.toFixed(2)}x)`,
          peers: { pandas: String(Math.round(rate('pandas'))), duckdb: String(Math.round(rate('duckdb'))) }, target: '>= 3x pandas', met: vsPandas >= 3 },
        { figure: `corpus ${label}: pairs/s vs DuckDB-from-Python`, hala: `${vsDuckdb.toFixed(2)}x`, peers: {}, target: '> 1x', met: vsDuckdb > 1 },
        { figure: `corpus ${label}: peak RSS`, hala: mib(got.hala.peakRssBytes),
          peers: { pandas: mib(got.pandas.peakRssBytes), duckdb: mib(got.duckdb.peakRssBytes) },
          target: n === 5_000_000 ? '<= 1 GiB' : '-', met: n === 5_000_000 ? got.hala.peakRssBytes <= 2 ** 30 : null },
        { figure: `corpus ${label}: same pairs in all three`, hala: same ? 'yes' : 'NO', peers: {}, target: 'same', met: same },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  printBenchLine('corpus', rows, `${sizes.join(', ')} generated OPUS en-ar pairs (bench/lib/opus-pairs.ts), recipe defaults, ${WITHOUT_LANGUAGE_ID}`, machine);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
