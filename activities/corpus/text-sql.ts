import type { Recipe } from '../../contracts/recipe';

// SQL expressions over text columns (RE2 regular expressions, as DuckDB runs them).

export type Script = Recipe['language']['source_script'];

/** Characters of each script, as an RE2 class body. CJK covers Han, kana and Hangul. */
const SCRIPT_CLASS: Record<Exclude<Script, 'any'>, string> = {
  arabic: '\\p{Arabic}',
  latin: '\\p{Latin}',
  cyrillic: '\\p{Cyrillic}',
  devanagari: '\\p{Devanagari}',
  cjk: '\\p{Han}\\p{Hiragana}\\p{Katakana}\\p{Hangul}',
};

/** Whitespace including Unicode spaces (RE2's \s is ASCII only). */
const SPACE = '[\\s\\p{Z}]';

/** Runs of whitespace other than one plain space: where collapsing them to ' ' changes the text. */
const NOT_ONE_SPACE = `[^ \\P{Z}]|[\\t\\n\\f\\r]|${SPACE}{2}`;

export function trimmedSql(column: string): string {
  // Only a text that starts or ends with a space has any to trim; the regex's `SPACE+$` would scan
  // every other text to its end (the trim cost half as much again at 1M pairs).
  const edges = `regexp_matches(left(${column}, 1) || right(${column}, 1), '${SPACE}')`;
  return `CASE WHEN ${edges} THEN regexp_replace(${column}, '^${SPACE}+|${SPACE}+$', '', 'g') ELSE ${column} END`;
}

/**
 * Share of the letters in `column` that belong to `script` (0 when there are no letters at all:
 * a side made only of digits and punctuation gives no evidence of its language). Digits, marks and
 * punctuation are not letters, so "٣ كتب" and "3 books" are judged on their words alone.
 * Returns null for `any` (no check).
 */
export function scriptShareSql(column: string, script: Script): string | null {
  if (script === 'any') return null;
  // Removing runs (`+`) rather than one character per match: the same text, a quarter fewer regex steps.
  const letters = `regexp_replace(${column}, '\\P{L}+', '', 'g')`;
  const inScript = `regexp_replace(${letters}, '[^${SCRIPT_CLASS[script]}]+', '', 'g')`;
  const share = `coalesce(length(${inScript}) / nullif(length(${letters}), 0), 0)`;
  // ASCII text (as many bytes as characters) has the letters A-Z and a-z alone, all Latin: its share
  // is known from one short search, without the two rewriting passes (most English sides).
  const asciiShare = script === 'latin' ? `CASE WHEN regexp_matches(${column}, '[A-Za-z]') THEN 1 ELSE 0 END` : '0';
  return `CASE WHEN strlen(${column}) = length(${column}) THEN ${asciiShare} ELSE ${share} END`;
}

/**
 * The key of near-duplicate detection: lower case, punctuation and digits removed, whitespace
 * collapsed. "Hello, world! (2)" and "hello world" share a key.
 */
export function nearDuplicateKeySql(column: string): string {
  const stripped = `regexp_replace(lower(${column}), '[\\p{P}\\p{N}]+', '', 'g')`;
  // Collapsing replaced every word's space by itself, one regex match a word: 80% of this key's
  // cost at 1M pairs, for texts mostly single-spaced already; a search finds the others.
  const collapsed = `CASE WHEN regexp_matches(${stripped}, '${NOT_ONE_SPACE}') THEN regexp_replace(${stripped}, '${SPACE}+', ' ', 'g') ELSE ${stripped} END`;
  // Every run of whitespace is one ' ' by then: trim() (spaces) does what trimmedSql's regex would.
  return `trim(${collapsed})`;
}

/** True when `column` is null or only whitespace. */
export function blankSql(column: string): string {
  // No non-space character: the search stops at the first one, where trimming rewrote the whole text.
  return `(${column} IS NULL OR NOT regexp_matches(${column}, '[^${SPACE.slice(1)}'))`;
}
