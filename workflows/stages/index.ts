// The declaration of every stage kind, under its kind: what the campaign runs (recipe-dag.ts names
// them from here), what it plans and the CLI names from (stages/plan.ts), and what the one stage
// workflow serves (stage-workflow.ts). A new stage is its file here and one entry below.
import { buildBilingualCorpusStage } from './build-bilingual-corpus';
import { chooseStage } from './choose';
import { compressTeacherStage } from './compress-teacher';
import type { AnyStageDeclaration } from './declaration';
import { type StageKind, StageKinds } from '../../contracts/stages';
import { evaluateStage } from './evaluate';
import { evaluateTranslatorStage } from './evaluate-translator';
import { filterOpusStage } from './filter-opus';
import { mergeStage } from './merge';
import { sftStage } from './sft';
import { trainTranslatorStage } from './train-translator';
import { translateInstructionsStage } from './translate-instructions';

/**
 * One declaration per kind of contracts/stages/index.ts (the one list), each keeping its own types:
 * a kind left out or one the list lacks does not typecheck; test/unit/stage-declarations.test.ts
 * checks each is its key's.
 */
export const stages = {
  'compress-teacher': compressTeacherStage,
  'filter-opus': filterOpusStage,
  'build-bilingual-corpus': buildBilingualCorpusStage,
  'train-translator': trainTranslatorStage,
  'translate-instructions': translateInstructionsStage,
  'evaluate-translator': evaluateTranslatorStage,
  sft: sftStage,
  merge: mergeStage,
  choose: chooseStage,
  evaluate: evaluateStage,
} satisfies { [K in StageKind]: AnyStageDeclaration };

/** Every declaration, in campaign order. */
export const stageDeclarations: readonly AnyStageDeclaration[] = StageKinds.map((kind) => stages[kind]);
