// Every workflow the CPU worker serves, re-exported by name.
export { campaign } from './campaign';
export { compressTeacher } from './compress-teacher';
export { filterOpus } from './filter-opus';
export { buildBilingualCorpus } from './build-bilingual-corpus';
export { trainTranslator } from './train-translator';
export { translateInstructions } from './translate-instructions';
export { evaluateTranslator } from './evaluate-translator';
export { translateCorpus } from './translate-corpus';
export { sft, merge, evaluate } from './student';
