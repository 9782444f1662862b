// Usage: npx tsx bench/filter-opus.ts [pairs=1000000]
// Throughput of the OPUS filters (all of them, near dedup on) over a synthetic OPUS-100-shaped
// parquet of N pairs. Prints figures; asserts nothing. bench/corpus.ts sets it against its peers.
// Without language identification, as bench/corpus.ts runs it; bench/language-id.ts times that.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { filterOpusPairs } from '../activities/corpus';
import { Recipe } from '../contracts/recipe';
import { writeOpusPairs } from './lib/opus-pairs';

async function main() {
  const n = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'hala-bench-'));
  const file = path.join(dir, 'opus.parquet');
  await writeOpusPairs(file, n);

  const language = Recipe.shape.language.parse({ target: 'ar', target_name: 'Arabic', target_script: 'arabic' }); // the pair this bench's data is in (a recipe has no default target)
  const filters = Recipe.shape.stages.shape.filter_opus.parse({});
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const result = await filterOpusPairs({ opus: { path: file, label: 'bench' }, language, filters, workDir: dir });
  const secs = (performance.now() - t0) / 1000;
  console.log(`filter-opus: ${n} pairs in ${secs.toFixed(1)} s = ${Math.round(n / secs)} pairs/s; kept ${result.counts.kept}, ` +
    `exact dup ${result.counts.exact_duplicate}, near dup ${result.counts.near_duplicate} (language identification off); node rss +${Math.round((process.memoryUsage().rss - rss0) / 2 ** 20)} MiB`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
