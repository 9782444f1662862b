// Every workflow the CPU worker serves, exported under its workflow type: the campaign, the
// translation fan-out, and one per stage kind (each stage file exports its own).
export { campaign } from './campaign';
export { translateCorpus } from './translate-corpus';
export { doctor } from './doctor';
export {
  compressTeacher,
  filterOpus,
  buildBilingualCorpus,
  trainTranslator,
  translateInstructions,
  evaluateTranslator,
  sft,
  merge,
  evaluate,
} from './stages';
