// Phrases several stages' pages in the Temporal UI share (each declaration's `describe`: a one-line
// summary naming what it makes of what, and the knobs an operator checks first).
import type { Recipe } from '../../contracts/recipe';
import type { TrainKnobs } from '../../contracts/stages/train-knobs';
import { rate, type StageDescription } from '../stage-story';

export const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
export const trainFacts = (k: TrainKnobs): StageDescription['facts'] => [
  ['base', k.base],
  ['learning rate', rate(k.learning_rate)],
  ['epochs', k.epochs],
  ['batch', `${k.per_device_batch_size} per device × ${k.gradient_accumulation_steps} accumulation × ${k.gpus} GPU`],
  ['max sequence', `${k.max_seq_len} tokens`],
  ['schedule', `${k.lr_scheduler}, warmup ${k.warmup_ratio}`],
  ['checkpoint every', `${k.save_every_steps} steps`],
  ['dtype', k.dtype],
];
export const trainLine = (k: TrainKnobs) => `lr ${rate(k.learning_rate)}, ${plural(k.epochs, 'epoch')}`;


/** What the evaluate stage scores, in words. */
export function scoringFact(e: Recipe['stages']['evaluate']): string {
  const what = e.formulation === 'cf' ? 'option texts after the question (cloze)' : 'option labels (leaderboard)';
  return e.chat_template ? `${what}, in the chat template` : what;
}

/** Which model identifies languages, or off. */
export function languageIdFact(r: Recipe): string {
  const k = r.language_id;
  if (!k.check) return 'off';
  const model = typeof k.model === 'string' ? 'builtin (fastText lid.176)' : `fastText ${k.model.fasttext}`;
  return `${model}, confidence ≥ ${k.min_confidence}, texts of ≥ ${k.min_letters} letters`;
}
