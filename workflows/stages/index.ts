// The declaration of every stage kind, which the campaign plans from and the CLI names from
// (stages/plan.ts). Each file exports its declaration and the workflow that runs it, which
// workflows/index.ts serves; a new stage is one file here, one export line, one entry below, and its
// workflow in workflows/index.ts (test/unit/stage-declarations.test.ts fails when it is missing).
import { buildBilingualCorpusStage } from './build-bilingual-corpus';
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

export { compressTeacherStage, compressTeacher } from './compress-teacher';
export { filterOpusStage, filterOpus } from './filter-opus';
export { buildBilingualCorpusStage, buildBilingualCorpus } from './build-bilingual-corpus';
export { trainTranslatorStage, trainTranslator } from './train-translator';
export { translateInstructionsStage, translateInstructions } from './translate-instructions';
export { evaluateTranslatorStage, evaluateTranslator } from './evaluate-translator';
export { sftStage, sft } from './sft';
export { mergeStage, merge } from './merge';
export { evaluateStage, evaluate } from './evaluate';

/** One declaration per kind of contracts/stages/index.ts (the one list): a kind left out or one
 * the list lacks does not typecheck; test/unit/stage-declarations.test.ts checks each is its key's. */
const declarations: { [K in StageKind]: AnyStageDeclaration } = {
  'compress-teacher': compressTeacherStage,
  'filter-opus': filterOpusStage,
  'build-bilingual-corpus': buildBilingualCorpusStage,
  'train-translator': trainTranslatorStage,
  'translate-instructions': translateInstructionsStage,
  'evaluate-translator': evaluateTranslatorStage,
  sft: sftStage,
  merge: mergeStage,
  evaluate: evaluateStage,
};

/** Every declaration, in campaign order. */
export const stageDeclarations: readonly AnyStageDeclaration[] = StageKinds.map((kind) => declarations[kind]);
