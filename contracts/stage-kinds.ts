// The kinds of stage a campaign runs, in campaign order: what a recipe's gates may name in `before`.
// Each kind is declared by its file in workflows/stages, typed as StageKind (so a declaration cannot
// have a kind missing here); test/unit/stage-declarations.test.ts checks the converse and the order.
export const StageKinds = [
  'compress-teacher',
  'filter-opus',
  'build-bilingual-corpus',
  'train-translator',
  'translate-instructions',
  'evaluate-translator',
  'sft',
  'merge',
  'evaluate',
] as const;
export type StageKind = (typeof StageKinds)[number];
