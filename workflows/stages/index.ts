// Every stage kind, in campaign order: the one list the campaign plans from and the CLI names from
// (stages/plan.ts). Each file exports its declaration and the workflow that runs it, which
// workflows/index.ts serves; a new stage is one file here, one export line, one list entry, and its
// workflow in workflows/index.ts (test/unit/stage-declarations.test.ts fails when it is missing).
import { buildBilingualCorpusStage } from './build-bilingual-corpus';
import { compressTeacherStage } from './compress-teacher';
import type { AnyStageDeclaration } from './declaration';
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

export const stageDeclarations: readonly AnyStageDeclaration[] = [
  compressTeacherStage,
  filterOpusStage,
  buildBilingualCorpusStage,
  trainTranslatorStage,
  translateInstructionsStage,
  evaluateTranslatorStage,
  sftStage,
  mergeStage,
  evaluateStage,
];
