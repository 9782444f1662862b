// What each kind of stage says of itself on its page in the Temporal UI (StageDeclaration.describe):
// a one-line summary naming what it makes of what, and the knobs an operator checks first. Read from
// the recipe as the stage's slice is, so the page and the key speak of the same run.
import type { Recipe } from '../../contracts/recipe';
import type { TrainKnobs } from '../../contracts/stages/train-knobs';
import { modelName, rate, type StageDescription } from '../stage-story';
import { perStudent } from './students';

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
const trainFacts = (k: TrainKnobs): StageDescription['facts'] => [
  ['base', k.base],
  ['learning rate', rate(k.learning_rate)],
  ['epochs', k.epochs],
  ['batch', `${k.per_device_batch_size} per device × ${k.gradient_accumulation_steps} accumulation × ${k.gpus} GPU`],
  ['max sequence', `${k.max_seq_len} tokens`],
  ['schedule', `${k.lr_scheduler}, warmup ${k.warmup_ratio}`],
  ['checkpoint every', `${k.save_every_steps} steps`],
  ['dtype', k.dtype],
];
const trainLine = (k: TrainKnobs) => `lr ${rate(k.learning_rate)}, ${plural(k.epochs, 'epoch')}`;

export const describe = {
  compressTeacher: (r: Recipe): StageDescription => {
    const c = r.stages.compress_teacher;
    return {
      summary: `compress-teacher — ${modelName(r.inputs.teacher)} to ${c.scheme} (${c.method}), checked on ${c.check_rows} dev pairs`,
      facts: [
        ['teacher', r.inputs.teacher],
        ['scheme', c.scheme],
        ['method', c.method],
        ['left in bf16', c.ignore.join(', ') || 'nothing'],
        ['check', `chrF++ may drop at most ${c.max_chrf_drop} on ${c.check_rows} pairs of ${r.inputs.translation_dev}`],
      ],
    };
  },
  filterOpus: (r: Recipe): StageDescription => {
    const f = r.stages.filter_opus;
    return {
      summary: `filter-opus — ${r.language.source}→${r.language.target} pairs of ${modelName(r.inputs.opus)}, ${f.min_chars}–${f.max_chars} chars, ratio ≤ ${f.max_length_ratio}, ${f.dedup} dedup`,
      facts: [
        ['pairs', r.inputs.opus],
        ['read at most', f.max_rows ?? 'all'],
        ['script share', `≥ ${f.min_script_fraction} (${r.language.source_script} / ${r.language.target_script})`],
        ['language identification', languageIdFact(r)],
      ],
    };
  },
  buildBilingualCorpus: (r: Recipe): StageDescription => {
    const b = r.stages.build_bilingual_corpus;
    return {
      summary: `build-bilingual-corpus — the FP8 teacher translates ${b.open_orca_rows} Open-Orca rows to ${r.language.target_name}, joined with the filtered OPUS pairs`,
      facts: [
        ['Open-Orca', r.inputs.open_orca],
        ['responses translated', b.translate_responses],
        ['both directions', b.both_directions],
        ['segments per shard', b.shard_rows],
        ['teacher batch', r.generation.teacher.batch_size],
      ],
    };
  },
  trainTranslator: (r: Recipe): StageDescription => {
    const k = r.stages.train_translator;
    return { summary: `train-translator — ${modelName(k.base)} on the bilingual corpus, ${trainLine(k)}`, facts: trainFacts(k) };
  },
  translateInstructions: (r: Recipe): StageDescription => ({
    summary: `translate-instructions — the translator turns ${r.inputs.instruction_sets.map((s) => s.name).join(', ')} into ${r.language.target_name}`,
    facts: [
      ...r.inputs.instruction_sets.map((s): [string, string] => [s.name, `${s.uri} (${s.format}${s.max_rows ? `, ${s.max_rows} rows` : ''})`]),
      ['segments per shard', r.stages.translate_instructions.shard_rows],
      ['translator batch', r.generation.translator.batch_size],
    ],
  }),
  evaluateTranslator: (r: Recipe): StageDescription => ({
    summary: `evaluate-translator — BLEU and chrF++ of the translator vs ${modelName(r.stages.train_translator.base)} on ${r.stages.evaluate_translator.rows} dev pairs`,
    facts: [
      ['dev pairs', r.inputs.translation_dev],
      ['BLEU tokenize', r.scoring.bleu_tokenize],
    ],
  }),
  sft: (r: Recipe, i: number): StageDescription => {
    const { name, ...k } = perStudent.student(r, i);
    return { summary: `sft ${name} — ${modelName(k.base)} on the translated instructions, ${trainLine(k)}`, facts: [['student', name], ...trainFacts(k)] };
  },
  merge: (r: Recipe, i: number): StageDescription => {
    const s = perStudent.student(r, i);
    return {
      summary: `merge ${s.name} — slerp t=${r.stages.merge.t} of the SFT weights with ${modelName(s.base)}`,
      facts: [
        ['student', s.name],
        ['base', s.base],
        ['colinear threshold', r.stages.merge.colinear_threshold],
      ],
    };
  },
  evaluate: (r: Recipe, i: number): StageDescription => {
    // Under lighteval a benchmark is its format's leaderboard tasks on the hub, not the recipe's file.
    const lighteval = r.stages.evaluate.harness === 'lighteval';
    return {
      summary: `evaluate ${perStudent.student(r, i).name} — ${plural(r.inputs.benchmarks.length, 'benchmark')} on the base, SFT and merged models${lighteval ? ", through lighteval's leaderboard tasks" : ''}`,
      facts: [
        ['student', perStudent.student(r, i).name],
        ...r.inputs.benchmarks.map((b): [string, string] => [b.name, lighteval ? `lighteval ${b.format} tasks (every subset)` : b.uri]),
        ['batch', r.stages.evaluate.batch_size],
        ['scored', scoringFact(r.stages.evaluate)],
      ],
    };
  },
};

/** What the evaluate stage scores, in words (the knobs are absent in campaigns started before them). */
function scoringFact(e: Recipe['stages']['evaluate']): string {
  const what = e.formulation === 'cf' ? 'option texts after the question (cloze)' : 'option labels (leaderboard)';
  return e.chat_template ? `${what}, in the chat template` : what;
}

/** Which model identifies languages, or off (also for campaigns started before the knob). */
function languageIdFact(r: Recipe): string {
  const k = r.language_id as Recipe['language_id'] | undefined;
  if (!k?.check) return 'off';
  const model = typeof k.model === 'string' ? 'builtin (ELD)' : `fastText ${k.model.fasttext}`;
  return `${model}, confidence ≥ ${k.min_confidence}, texts of ≥ ${k.min_letters} letters`;
}
