// Usage: npx tsx bench/language-id.ts [pairs=1000000]
// Throughput of language identification (recipe language_id, the builtin ELD model) on generated
// real English/Arabic pairs: sentences of test/support/language-samples.ts, two to a pair (~100 characters a side), with
// a distinct reference word each so that dedup keeps them all. Prints, for N pairs:
//   - identification alone: both sides of every pair streamed out of DuckDB and judged (pairs/s);
//   - the whole filter-opus stage with identification off and on, and the share identification takes.
// Asserts nothing. bench/corpus.ts compares the filter with its peers with identification off.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { filterOpusPairs } from '../activities/corpus';
import { withCorpusDb } from '../activities/corpus/corpus-db';
import { findWrongLanguage, prepareLanguageCheck } from '../activities/corpus/language-check';
import { Recipe } from '../contracts/recipe';
import { pairs as samples } from '../test/support/language-samples';

/** N pairs: sentences i and i/30 of the samples (mod 30), and a reference word from md5(i) on both sides. */
async function writeRealPairs(file: string, n: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = (side: 'en' | 'ar') => `[${samples.map((p) => `'${p[side].replaceAll("'", "''")}'`).join(', ')}]`;
    const pick = (side: 'en' | 'ar', k: string) => `${list(side)}[(${k}) % ${samples.length} + 1]`;
    const ref = `regexp_replace(md5(i::varchar), '[0-9]', '', 'g')`;
    await conn.run(`COPY (
      SELECT {'en': concat_ws(' ', ${pick('en', 'i')}, ${pick('en', `i // ${samples.length}`)}, 'Reference ' || ${ref} || '.'),
              'ar': concat_ws(' ', ${pick('ar', 'i')}, ${pick('ar', `i // ${samples.length}`)},
                              'المرجع ' || translate(${ref}, 'abcdef', 'ابتثجح') || '.')} AS translation
      FROM range(${n}) t(i) ORDER BY i
    ) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
}

async function main() {
  const n = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-langid-'));
  try {
    const file = path.join(dir, 'opus.parquet');
    await writeRealPairs(file, n);
    const language = Recipe.shape.language.parse({ target: 'ar', target_name: 'Arabic', target_script: 'arabic' }); // the pair this bench's data is in (a recipe has no default target)
    const filters = { ...Recipe.shape.stages.shape.filter_opus.parse({}), max_chars: 2000 };
    const knobs = Recipe.shape.language_id.parse({});
    const check = { model: knobs.model, min_confidence: knobs.min_confidence, min_letters: knobs.min_letters, source: ['en'], target: ['ar'] };
    const prepared = await prepareLanguageCheck({ check }); // model load, outside the timings

    const alone = await withCorpusDb(dir, async (db) => {
      await db.run(`CREATE TEMP TABLE pairs AS SELECT row_number() OVER () AS key, translation.en AS source, translation.ar AS target FROM '${file}'`);
      const t0 = performance.now();
      const sides = [{ column: 'source', side: 'source', accept: prepared.accept.source! }, { column: 'target', side: 'target', accept: prepared.accept.target! }];
      const wrong = await findWrongLanguage(db, 'SELECT key, source, target FROM pairs', sides, prepared.identifier, prepared.thresholds);
      return { seconds: (performance.now() - t0) / 1000, wrong };
    });
    console.log(`language-id alone: ${n} pairs (both sides) in ${alone.seconds.toFixed(1)} s = ${Math.round(n / alone.seconds)} pairs/s; ` +
      `judged wrong: source ${alone.wrong.source}, target ${alone.wrong.target}`);

    const timed = async (languageId: boolean) => {
      const workDir = mkdtempSync(path.join(dir, languageId ? 'on-' : 'off-'));
      const t0 = performance.now();
      const result = await filterOpusPairs({ opus: { path: file, label: 'bench' }, language, filters, workDir, ...(languageId ? { languageId: { check } } : {}) });
      return { seconds: (performance.now() - t0) / 1000, counts: result.counts };
    };
    const off = await timed(false);
    const on = await timed(true);
    for (const [name, r] of [['off', off], ['on', on]] as const) {
      console.log(`filter-opus, identification ${name}: ${r.seconds.toFixed(1)} s = ${Math.round(n / r.seconds)} pairs/s; kept ${r.counts.kept}, ` +
        `source_language ${r.counts.source_language}, target_language ${r.counts.target_language}`);
    }
    console.log(`identification takes ${(100 * (on.seconds - off.seconds) / on.seconds).toFixed(0)}% of the filter's time at ${n} pairs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
