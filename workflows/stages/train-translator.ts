// Stage 4: fine-tune the translator base on the bilingual corpus.
import { classOf } from '../../contracts/placement';
import type { ArtifactRef } from '../../contracts/artifact';
import type { TrainSftOutput } from '../../contracts/gpu-activities';
import type { TrainKnobs } from '../../contracts/stages/train-knobs';
import { single, type StageDeclaration } from './declaration';
import { trainOn } from './train-on';
import { model } from './sources';
import { trainFacts, trainLine } from './describe-helpers';
import { modelName } from '../stage-story';
import { mul, round } from './estimate-context';

export interface TrainSlice {
  knobs: TrainKnobs;
  seed: number;
}

export const trainTranslatorStage: StageDeclaration<TrainSlice, { corpus: ArtifactRef }, TrainSftOutput> = {
  ...single('train-translator'),
  slice: (r) => ({ knobs: r.stages.train_translator, seed: r.seed }),
  inputs: (s, up) => [up.corpus.sha256, model(s.knobs.base, 'stages.train_translator.base')],
  model: (r) => r.stages.train_translator.base,
  estimate: (x, r, _i, up) => {
    const k = r.stages.train_translator;
    const b = x.params(k.base);
    const examples = up.corpus.examples;
    return {
      reads: 'the bilingual corpus',
      rows_in: round(examples),
      unit: 'examples',
      artifact_gb: mul(b, 2),
      gpu_hours: x.compute(mul(6, b, 1e9, examples, 2 * x.e.tokens.segment, k.epochs), x.pool('train_translator')),
      route: 'train_translator',
    };
  },
  headline: ['steps', 'final_loss', 'resumed_from_step', 'oom_halvings', 'per_device_batch_size', 'completion_only_loss'],
  describe: (r) => {
    const k = r.stages.train_translator;
    return { summary: `train-translator — ${modelName(k.base)} on the bilingual corpus, ${trainLine(k)}`, facts: trainFacts(k) };
  },
  placement: ({ resources }) => ({ train: classOf(resources, 'train_translator') }),
  work: (io, s, up) => trainOn(io, up.corpus, s),
};
