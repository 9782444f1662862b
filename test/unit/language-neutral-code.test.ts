// The recipe names the language pair; code must not. This scans the source directories for the
// word "Arabic" (any case, comments included) and for the tag `ar` as a token inside a string literal
// ('ar', "en-ar", `..._ar`): either means code that works for one language only. Recipes, fixtures
// (gpu-runners/tiny_world) and the format tables below are where a language may be named.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '../..');
const SCANNED = ['activities', 'workflows', 'contracts', 'cli', 'workers', 'platform', 'gpu-runners/hala_runners', 'scripts'];
const SOURCE = /\.(ts|mts|py|sh)$/;

/** Files that are format tables, each with why it names a language. */
const ALLOWED: Record<string, string> = {
  'contracts/format-tables.ts': 'the Script and BenchmarkFormat enums: names of writing systems and of the OALL layouts',
  'activities/corpus/text-sql.ts': "the script table: each Script's Unicode character class",
  'gpu-runners/hala_runners/oall_formats.py': "the OALL layouts' own prompts and answer letters, as the leaderboard words them",
  'gpu-runners/hala_runners/lighteval_tasks.py': "lighteval's OALL task names and subsets (mcq_exams_test_ar, 'Arabic Language (General)')",
  'gpu-runners/hala_runners/lighteval_harness.py': "the harness of those tasks: lighteval's module is named for their language",
  'gpu-runners/hala_runners/runners/evaluate_lighteval.py': 'imports lighteval.tasks.multilingual.tasks.arabic, where the OALL tasks live',
};

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.posix.join(dir, name);
    if (name === 'node_modules' || name === '__pycache__' || name === 'json-schema') continue;
    if (statSync(path.join(root, rel)).isDirectory()) yield* sourceFiles(rel);
    else if (SOURCE.test(name)) yield rel;
  }
}

/** String literals of one line (single-line ones: what names a tag). */
const LITERAL = /(['"`])((?:\\.|(?!\1).)*?)\1/g;
const AR_TOKEN = /(^|[^A-Za-z0-9])ar([^A-Za-z0-9]|$)/;

/** `file:line: text` of every line that names the language. */
export function findings(rel: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const literals = [...line.matchAll(LITERAL)].map((m) => m[2] ?? '');
    if (/arabic/i.test(line) || literals.some((l) => AR_TOKEN.test(l))) out.push(`${rel}:${i + 1}: ${line.trim()}`);
  });
  return out;
}

describe('language-neutral code', () => {
  it('the scan sees a language named in a comment, a tag in a string and not a word that contains it', () => {
    expect(findings('x.ts', '// the Arabic benchmarks')).toHaveLength(1);
    expect(findings('x.ts', "const target = 'ar';")).toHaveLength(1);
    expect(findings('x.py', 'path = f"opus-100/en-ar/train.parquet"')).toHaveLength(1);
    expect(findings('x.ts', "const car = 'arrow'; // ar outside a literal")).toEqual([]);
  });

  it('names Arabic or `ar` only in recipes, fixtures and the allowlisted format tables', () => {
    const found = SCANNED.flatMap((dir) => [...sourceFiles(dir)])
      .filter((rel) => !(rel in ALLOWED))
      .flatMap((rel) => findings(rel, readFileSync(path.join(root, rel), 'utf8')));
    expect(found, 'name the language in the recipe (language.*), or add a format table to ALLOWED with why').toEqual([]);
  });

  it('every allowlisted file exists and still names the language (an entry that no longer needs it goes)', () => {
    for (const rel of Object.keys(ALLOWED)) {
      expect(findings(rel, readFileSync(path.join(root, rel), 'utf8')).length, rel).toBeGreaterThan(0);
    }
  });
});
