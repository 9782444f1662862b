// Every kind of stage a campaign runs, in campaign order, with its recipe section: the one list of
// stages. The recipe's `stages` schema, the kinds a gate may name (`before`) and, typed by StageKind,
// the declarations of workflows/stages/index.ts are all built from it. A kind is spelled one way;
// its recipe section is the same name with underscores (train-translator -> stages.train_translator).
import { z } from 'zod';
import { BuildBilingualCorpusKnobs } from './build-bilingual-corpus';
import { ChooseKnobs } from './choose';
import { CompressTeacherKnobs } from './compress-teacher';
import { EvaluateKnobs } from './evaluate';
import { EvaluateTranslatorKnobs } from './evaluate-translator';
import { FilterOpusKnobs } from './filter-opus';
import { MergeKnobs } from './merge';
import { SftKnobs } from './sft';
import { TrainKnobs } from './train-knobs';
import { TranslateInstructionsKnobs } from './translate-instructions';

const StageSections = {
  'compress-teacher': CompressTeacherKnobs,
  'filter-opus': FilterOpusKnobs,
  'build-bilingual-corpus': BuildBilingualCorpusKnobs,
  'train-translator': TrainKnobs,
  'translate-instructions': TranslateInstructionsKnobs,
  'evaluate-translator': EvaluateTranslatorKnobs,
  sft: SftKnobs,
  merge: MergeKnobs,
  choose: ChooseKnobs,
  evaluate: EvaluateKnobs,
} as const;

export type StageKind = keyof typeof StageSections;
export const StageKinds = Object.keys(StageSections) as [StageKind, ...StageKind[]];

/** The recipe section of a kind: its name with underscores. */
type SectionOf<K extends string> = K extends `${infer A}-${infer B}` ? `${A}_${SectionOf<B>}` : K;
export const sectionOf = <K extends StageKind>(kind: K) => kind.replaceAll('-', '_') as SectionOf<K>;

/** The recipe's `stages`: one section per kind, in campaign order. */
export const RecipeStages = z.strictObject(
  Object.fromEntries(StageKinds.map((kind) => [sectionOf(kind), StageSections[kind]])) as {
    [K in StageKind as SectionOf<K>]: (typeof StageSections)[K];
  },
);
