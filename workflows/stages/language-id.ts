// What the corpus stages check languages with (recipe `language_id`): filter-opus both sides of
// every pair, build-bilingual-corpus and translate-instructions every translation. One place
// turns the recipe's languages into the labels the model must give, so the stages cannot disagree.
import type { OutputLanguageCheck, PairLanguageCheck } from '../../contracts/cpu-activities';
import type { Recipe } from '../../contracts/recipe';
import type { StageInputRef } from './declaration';
import { file } from './sources';

/** The builtin model (fastText lid.176) names languages by ISO 639 code: a BCP-47 tag's first subtag (zh-Hans -> zh). */
const builtinLabel = (tag: string) => tag.split('-')[0]!;

/** The check of both sides of a pair; null when the recipe turns identification off. */
export function pairLanguageSlice(r: Recipe): PairLanguageCheck | null {
  const knobs = r.language_id;
  if (!knobs.check) return null;
  const { model, min_confidence, min_letters } = knobs;
  // A string is the builtin model (compared by type: the stage-key test appends tokens to strings).
  if (typeof model === 'string') {
    return { model, min_confidence, min_letters, source: [builtinLabel(r.language.source)], target: [builtinLabel(r.language.target)] };
  }
  return { model, min_confidence, min_letters, source: model.source_labels, target: model.target_labels };
}

/** The check of a translation (the target side only); null when identification is off. */
export function outputLanguageSlice(r: Recipe): OutputLanguageCheck | null {
  const pair = pairLanguageSlice(r);
  if (!pair) return null;
  const { source: _source, ...output } = pair;
  return output;
}

/** The model file as a stage input (digested into the key, checked to be a file); nothing for the builtin model. */
export function languageModelInputs(check: OutputLanguageCheck | null): StageInputRef[] {
  if (!check || typeof check.model === 'string') return [];
  return [file(check.model.fasttext, 'language_id.model.fasttext')];
}
