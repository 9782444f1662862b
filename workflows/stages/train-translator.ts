// Stage 4: fine-tune the translator base on the bilingual corpus.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { TrainSftOutput } from '../../contracts/gpu-activities';
import type { TrainKnobs } from '../../contracts/stages/train-knobs';
import { single, type StageDeclaration } from './declaration';
import { trainOn } from './train-on';
import { stageWorkflow } from '../run-stage';
import { model } from './sources';
import { trainFacts, trainLine } from './describe-helpers';
import { modelName } from '../stage-story';

export interface TrainSlice {
  knobs: TrainKnobs;
  seed: number;
}

export const trainTranslatorStage: StageDeclaration<TrainSlice, { corpus: ArtifactRef }, TrainSftOutput> = {
  kind: 'train-translator',
  workflow: 'trainTranslator',
  ...single,
  name: () => 'train-translator',
  slice: (r) => ({ knobs: r.stages.train_translator, seed: r.seed }),
  inputs: (s, up) => [up.corpus.sha256, model(s.knobs.base, 'stages.train_translator.base')],
  model: (r) => r.stages.train_translator.base,
  headline: ['steps', 'final_loss', 'resumed_from_step', 'oom_halvings', 'per_device_batch_size', 'completion_only_loss'],
  describe: (r) => {
    const k = r.stages.train_translator;
    return { summary: `train-translator — ${modelName(k.base)} on the bilingual corpus, ${trainLine(k)}`, facts: trainFacts(k) };
  },
  placement: ({ resources }) => ({ train: classOf(resources, 'train_translator') }),
  work: (io, s, up) => trainOn(io, up.corpus, s),
};

/** The workflow type `trainTranslator`: the declaration run as a child workflow of the campaign. */
export const trainTranslator = stageWorkflow(trainTranslatorStage);
