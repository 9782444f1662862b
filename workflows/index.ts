// Every workflow the CPU worker serves, exported under its workflow type: the campaign, the
// translation fan-out, the doctor, the claim on a stage key (stage-claim.ts); every stage kind is
// served by the default export, under the type its declaration names (stage-workflow.ts).
export { campaign } from './campaign';
export { translateCorpus } from './translate-corpus';
export { doctor } from './doctor';
export { stageClaim } from './stage-claim';
export { stageWorkflow as default } from './stage-workflow';
