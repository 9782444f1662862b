// Translation quality of the fine-tuned translator against its untrained base, on held-out pairs,
// with the report's prompt and greedy decoding (BLEU and chrF++).
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import { combineActivities } from '../activity-summaries';
import { measureTranslation, measuredGeneration, prepareDevSet, type MeasureKnobs } from '../translation-quality';
import { single, type StageDeclaration } from './declaration';
import { dataset, model } from './sources';
import { modelName } from '../stage-story';
import { minOf, mul } from './estimate-context';

export interface EvaluateTranslatorSlice {
  /** The model the translator was trained from (stages.train_translator.base): what it is compared with. */
  base: string;
  measure: MeasureKnobs;
}
export interface TranslatorScores {
  base: { bleu: number; chrf: number };
  tuned: { bleu: number; chrf: number };
  tokenize: string;
  rows: number;
}

export const evaluateTranslatorStage: StageDeclaration<EvaluateTranslatorSlice, { translator: ArtifactRef }, TranslatorScores> = {
  ...single('evaluate-translator'),
  slice: (r) => {
    const { source, target, target_name } = r.language;
    return {
      base: r.stages.train_translator.base,
      measure: {
        dev: r.inputs.translation_dev,
        rows: r.stages.evaluate_translator.rows,
        language: { source, target, target_name },
        generation: measuredGeneration(r.generation.translator),
        bleu_tokenize: r.scoring.bleu_tokenize,
      },
    };
  },
  inputs: (s, up) => [up.translator.sha256, model(s.base, 'stages.train_translator.base'), dataset(s.measure.dev, 'inputs.translation_dev')],
  model: (r) => r.stages.train_translator.base,
  estimate: (x, r) => {
    const rows = minOf(x.rows('translation_dev'), r.stages.evaluate_translator.rows);
    return { reads: 'held-out pairs, translator vs base', rows_in: rows, unit: 'pairs', gpu_hours: x.generate(mul(rows, 2, x.e.tokens.segment), 'translator'), route: 'translator' };
  },
  headline: ['base_chrf', 'chrf', 'chrf_gain'],
  describe: (r) => ({
    summary: `evaluate-translator — BLEU and chrF++ of the translator vs ${modelName(r.stages.train_translator.base)} on ${r.stages.evaluate_translator.rows} dev pairs`,
    facts: [
      ['dev pairs', r.inputs.translation_dev],
      ['BLEU tokenize', r.scoring.bleu_tokenize],
    ],
  }),
  placement: ({ resources }) => ({ infer: classOf(resources, 'translator'), eval: classOf(resources, 'score') }),
  async work(io, s, up) {
    const dev = await prepareDevSet(io, s.measure);
    const [before, after] = await Promise.all([
      measureTranslation(io, s.measure, dev, s.base, 'base'),
      measureTranslation(io, s.measure, dev, up.translator.uri, 'tuned'),
    ]);
    return {
      output: {
        base: { bleu: before.bleu, chrf: before.chrf },
        tuned: { bleu: after.bleu, chrf: after.chrf },
        tokenize: after.tokenize,
        rows: after.rows,
      },
      artifacts: [],
      metrics: { base_bleu: before.bleu, base_chrf: before.chrf, bleu: after.bleu, chrf: after.chrf, chrf_gain: after.chrf - before.chrf },
      activities: combineActivities(before.activities, after.activities),
    };
  },
};
