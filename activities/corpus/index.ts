export { filterOpusPairs, type FilterOpusResult, type OpusFilterKnobs } from './filter-opus';
export { prepareSegmentShards, type PrepareSegmentsOptions, type PrepareSegmentsResult, type SegmentShard } from './prepare-segments';
export { assembleTranslatedConversations, type AssembleConversationsResult } from './assemble-conversations';
export { assembleBilingualCorpus, type AssembleBilingualResult } from './assemble-bilingual';
export { concatConversationSets, type ConcatConversationsResult } from './concat-conversations';
export { prepareTranslationDevSet, type TranslationDevResult } from './prepare-translation-dev';
export { type ParquetSource } from './corpus-db';
export { type LanguagePair } from './opus-pairs';
export { BadCorpusInput } from './bad-corpus-input';
