// Usage: npx tsx bench/language-id.ts [pairs=300000]
// Throughput of language identification (recipe language_id, the builtin model) on generated real
// English/Arabic pairs: sentences of test/support/language-samples.ts, two to a pair (~100 characters
// a side), a distinct reference word each so that dedup keeps them all, and every 25th pair with a
// side in French, Spanish, German, Persian or Urdu. Prints, for N pairs:
//   - one thread, per text: ELD (the builtin model of 0.4.0), fastText lid.176 run by fastText's wasm
//     build (the builtin model of 0.5.0) and by the TypeScript predictor (the builtin model now), and
//     whether the two fastText runs agree on every text;
//   - filter-opus with identification off, on with one thread, and on with one thread per core;
//   - the Python peer (bench/peers/language_id.py: fastText's Python binding, same model, a process
//     per core) over the same pairs, and the agreement on which pairs are dropped.
// "Before" runs ELD through today's wrongLanguage (its text cuts and letter count are a little cheaper
// than 0.4.0's; ELD's time dominates). Asserts nothing. bench/corpus.ts compares the filter with its
// peers with identification off.
// Last figures (2026-12-08, AMD EPYC, 2 cores, quiet at the start; bench/latest.md): per text, TypeScript
// 212.8K texts/s, wasm 47.9K, ELD 29.2K, same labels and probabilities; filter-opus off 69.3K pairs/s,
// before 6.6K, on with 1 thread 34.0K, with 2 threads 38.5K (5.82x before); the Python peer as a stage
// 13.1K; the same 10,297 pairs dropped by both.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { filterOpusPairs } from '../activities/corpus';
import { withCorpusDb } from '../activities/corpus/corpus-db';
import { loadEldIdentifier } from '../activities/corpus/eld-identifier';
import { loadFastTextIdentifier } from '../activities/corpus/fasttext-identifier';
import type { LanguageGuess } from '../activities/corpus/language-identifier';
import { BUILTIN_MODEL_FILE, type LanguageIdentifier, judgeableText, wrongLanguage } from '../activities/corpus/language-identifier';
import { Recipe } from '../contracts/recipe';
import { sql } from '../test/support/duckdb-sql';
import { loadWasmFastText } from '../test/support/fasttext-wasm';
import { otherLanguages, pairs as samples } from '../test/support/language-samples';

const OTHER_EVERY = 25;

/** N pairs: sentences i and i/30 of the samples (mod 30), a reference word from md5(i) on both sides; every 25th pair has a side in another language. */
async function writeRealPairs(file: string, n: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const quoted = (texts: string[]) => `[${texts.map((t) => `'${t.replaceAll("'", "''")}'`).join(', ')}]`;
    const pick = (side: 'en' | 'ar', k: string) => `${quoted(samples.map((p) => p[side]))}[(${k}) % ${samples.length} + 1]`;
    // Latin-script others replace the English side, Arabic-script ones the Arabic side, so the script filters let them through.
    const latin = otherLanguages.filter((o) => o.lang !== 'fa' && o.lang !== 'ur').map((o) => o.text);
    const arabic = otherLanguages.filter((o) => o.lang === 'fa' || o.lang === 'ur').map((o) => o.text);
    const other = (list: string[]) => `${quoted(list)}[(i // ${OTHER_EVERY}) % ${list.length} + 1]`;
    const ref = `regexp_replace(md5(i::varchar), '[0-9]', '', 'g')`;
    const en = `concat_ws(' ', ${pick('en', 'i')}, ${pick('en', `i // ${samples.length}`)}, 'Reference ' || ${ref} || '.')`;
    const ar = `concat_ws(' ', ${pick('ar', 'i')}, ${pick('ar', `i // ${samples.length}`)}, 'المرجع ' || translate(${ref}, 'abcdef', 'ابتثجح') || '.')`;
    const isOther = `i % ${OTHER_EVERY} = ${OTHER_EVERY - 1}`;
    await conn.run(`COPY (
      SELECT {'en': CASE WHEN ${isOther} AND (i // ${OTHER_EVERY}) % 2 = 0 THEN ${other(latin)} || ' ' || ${ref} ELSE ${en} END,
              'ar': CASE WHEN ${isOther} AND (i // ${OTHER_EVERY}) % 2 = 1 THEN ${other(arabic)} ELSE ${ar} END} AS translation
      FROM range(${n}) t(i) ORDER BY i
    ) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
}

/** Texts a second of one identifier on one thread, judging what filter-opus shows it. */
function perText(identifier: Pick<LanguageIdentifier, 'identify'>, texts: string[]): number {
  for (const t of texts.slice(0, 1000)) identifier.identify(judgeableText(t));
  const t0 = performance.now();
  for (const t of texts) identifier.identify(judgeableText(t));
  return texts.length / ((performance.now() - t0) / 1000);
}

/** fastText's wasm build behind the identifier's interface, as the builtin model ran in 0.5.0. */
async function wasmIdentifier(): Promise<Pick<LanguageIdentifier, 'identify'>> {
  const wasm = await loadWasmFastText(BUILTIN_MODEL_FILE);
  return {
    identify(text): LanguageGuess {
      const best = wasm.predict(text);
      return best ? { label: best.label, confidence: best.probability } : { label: '', confidence: 0 };
    },
  };
}

/**
 * Identification as it ran before the pool (release 0.4.0): ELD on the main thread, over the pairs
 * filter-opus hands to it, streamed from DuckDB the same way. With the filter's time without
 * identification, it gives the stage's pairs/s before, on this machine, in this run.
 */
async function eldOnMainThread(pairsPath: string, workDir: string): Promise<{ seconds: number; dropped: number }> {
  const eld = await loadEldIdentifier();
  const accept = [new Set(['en']), new Set(['ar'])];
  const knobs = Recipe.shape.language_id.parse({});
  return withCorpusDb(workDir, async (db) => {
    const t0 = performance.now();
    let dropped = 0;
    for await (const rows of db.chunks(`SELECT CAST(id AS VARCHAR) AS key, source, target FROM read_parquet('${pairsPath}')`)) {
      for (const row of rows) if ([1, 2].some((i) => wrongLanguage(eld, row[i] as string, accept[i - 1]!, knobs))) dropped++;
    }
    return { seconds: (performance.now() - t0) / 1000, dropped };
  });
}

async function main() {
  const n = Number(process.argv[2] ?? 300_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-langid-'));
  const cores = availableParallelism();
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cores} cores; load average at start ${loadavg()[0]!.toFixed(1)} (shared machine: figures are noisy)`);
  try {
    const file = path.join(dir, 'opus.parquet');
    await writeRealPairs(file, n);
    const language = Recipe.shape.language.parse({ target: 'ar', target_name: 'Arabic', target_script: 'arabic' }); // the pair this bench's data is in (a recipe has no default target)
    const filters = { ...Recipe.shape.stages.shape.filter_opus.parse({}), max_chars: 2000 };
    const knobs = Recipe.shape.language_id.parse({});
    const check = { model: knobs.model, min_confidence: knobs.min_confidence, min_letters: knobs.min_letters, source: ['en'], target: ['ar'] };

    const texts = samples.flatMap((p, i) => [`${p.en} ${samples[(i * 7) % samples.length]!.en}`, `${p.ar} ${samples[(i * 7) % samples.length]!.ar}`]);
    const many = Array.from({ length: 40_000 }, (_, i) => texts[i % texts.length]!);
    // Best of three rounds each, alternated: on a shared machine the load moves between them.
    const [eldModel, wasmModel, tsModel] = [await loadEldIdentifier(), await wasmIdentifier(), await loadFastTextIdentifier(BUILTIN_MODEL_FILE, 'lid.176')];
    let [eld, wasm, ts] = [0, 0, 0];
    for (let round = 0; round < 3; round++) {
      eld = Math.max(eld, perText(eldModel, many));
      wasm = Math.max(wasm, perText(wasmModel, many));
      ts = Math.max(ts, perText(tsModel, many));
    }
    console.log(`one thread, per text: ELD ${Math.round(eld)} texts/s, fastText lid.176 wasm ${Math.round(wasm)} texts/s, TypeScript ${Math.round(ts)} texts/s ` +
      `(${(ts / wasm).toFixed(1)}x wasm, ${(ts / eld).toFixed(1)}x ELD)`);
    let [differ, maxDiff] = [0, 0];
    for (const t of texts.map(judgeableText)) {
      const [a, b] = [tsModel.identify(t), wasmModel.identify(t)];
      if (a.label !== b.label) differ++;
      maxDiff = Math.max(maxDiff, Math.abs(a.confidence - b.confidence));
    }
    console.log(`TypeScript vs wasm on the ${texts.length} texts: ${differ} labels differ, largest probability difference ${maxDiff.toExponential(1)}`);

    const timed = async (name: string, threads?: number) => {
      const workDir = mkdtempSync(path.join(dir, `${name}-`));
      const t0 = performance.now();
      const result = await filterOpusPairs({ opus: { path: file, label: 'bench' }, language, filters, workDir, ...(threads ? { languageId: { check, threads } } : {}) });
      const seconds = (performance.now() - t0) / 1000;
      console.log(`filter-opus, identification ${name}: ${seconds.toFixed(1)} s = ${Math.round(n / seconds)} pairs/s; kept ${result.counts.kept}, ` +
        `source_language ${result.counts.source_language}, target_language ${result.counts.target_language}`);
      return { seconds, result };
    };
    const off = await timed('off');
    const before = await eldOnMainThread(off.result.pairsPath, mkdtempSync(path.join(dir, 'eld-')));
    const beforeRate = n / (off.seconds + before.seconds);
    console.log(`before (0.4.0: ELD on the main thread): identification ${before.seconds.toFixed(1)} s, dropped ${before.dropped}; ` +
      `filter-opus with it ~${(off.seconds + before.seconds).toFixed(1)} s = ${Math.round(beforeRate)} pairs/s`);
    const one = await timed('on, 1 thread', 1);
    const all = await timed(`on, ${cores} threads`, cores);
    console.log(`identification takes ${(100 * (all.seconds - off.seconds) / all.seconds).toFixed(0)}% of the filter's time with ${cores} threads ` +
      `(${(100 * (one.seconds - off.seconds) / one.seconds).toFixed(0)}% with 1); ${cores} threads vs 1: ${(one.seconds / all.seconds).toFixed(2)}x; ` +
      `vs before (ELD, main thread): ${(n / all.seconds / beforeRate).toFixed(2)}x`);

    // The peer judges exactly the pairs filter-opus hands to identification: the survivors of the other filters.
    const python = path.join(execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'bench-env.sh')], { encoding: 'utf8' }).trim(), 'bin', 'python');
    const peer = JSON.parse(execFileSync(python, [path.join(__dirname, 'peers', 'language_id.py'), off.result.pairsPath, BUILTIN_MODEL_FILE,
      'en', 'ar', String(check.min_confidence), String(check.min_letters)], { encoding: 'utf8', maxBuffer: 1 << 30 })) as { seconds: number; pairs: number; dropped: [string, string][] };
    const offJudge = off.seconds; // the filter without identification, to put the peer's identification in the same stage
    console.log(`Python peer (fastText's Python binding, lid.176, ${cores} processes): identification of ${peer.pairs} pairs in ${peer.seconds.toFixed(1)} s = ` +
      `${Math.round(peer.pairs / peer.seconds)} pairs/s; as a stage with the filter's other work: ${Math.round(n / (offJudge + peer.seconds))} pairs/s ` +
      `(hala ${Math.round(n / all.seconds)} pairs/s: ${((offJudge + peer.seconds) / all.seconds).toFixed(2)}x)`);

    const ours = all.result.wrongLanguagePath
      ? (await sql(`SELECT id, side FROM read_parquet('${all.result.wrongLanguagePath}')`)).map((r) => `${String(r.id)}/${String(r.side)}`)
      : [];
    const theirs = peer.dropped.map(([id, side]) => `${id}/${side}`);
    const both = new Set(ours.filter((k) => new Set(theirs).has(k)));
    const union = new Set([...ours, ...theirs]);
    console.log(`dropped pairs: hala ${ours.length}, peer ${theirs.length}, both ${both.size} (same pair, same side); agreement ${union.size ? ((100 * both.size) / union.size).toFixed(2) : '100.00'}% ` +
      `of the ${union.size} dropped by either; hala only ${ours.length - both.size}, peer only ${theirs.length - both.size}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
