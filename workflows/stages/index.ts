// Every stage kind, in campaign order: the one list the campaign plans from and the CLI names from
// (stages/plan.ts). Each file exports its declaration and the workflow that runs it, which
// workflows/index.ts serves; a new stage is one file here, one export line and one list entry.
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

export * from './compress-teacher';
export * from './filter-opus';
export * from './build-bilingual-corpus';
export * from './train-translator';
export * from './translate-instructions';
export * from './evaluate-translator';
export * from './sft';
export * from './merge';
export * from './evaluate';

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
