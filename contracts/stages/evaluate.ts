// stages.evaluate: each student's benchmarks.
import { z } from 'zod';
import { positiveInt } from '../numbers';

/** Who scores the benchmarks (stages.evaluate.harness). */
export const EvalHarness = z.enum(['own', 'lighteval']);
/** What is scored (stages.evaluate.formulation): the option labels (the leaderboard's) or the option texts. */
export const EvalFormulation = z.enum(['mcf', 'cf']);

export const EvaluateKnobs = z
  .strictObject({
    batch_size: positiveInt().default(16).describe("rows per forward pass of each student's benchmarks"),
    harness: EvalHarness.default('own').describe(
      "own = our log-likelihood scorer on the benchmark files of inputs.benchmarks (offline); lighteval = lighteval's " +
        "leaderboard tasks (OALL v2) for each benchmark's format, every subset, read from the hub " +
        '(or HALA_HUB_MIRROR); the files of inputs.benchmarks are then not read. Same report, acc_norm per benchmark',
    ),
    formulation: EvalFormulation.default('mcf').describe(
      'mcf = the option labels listed in the prompt are scored (the leaderboard\'s way); cf = cloze: the question ' +
        'alone, each option\'s own text scored. Small models stay at chance on labels long after they know the ' +
        'answers, so cf is how their progress shows; own harness only',
    ),
    chat_template: z
      .boolean()
      .default(false)
      .describe("prompt in the model's chat template (a user turn; the scored text opens the reply), as an instruction-tuned model is asked; own harness only"),
    validation: z
      .strictObject({
        fraction: z
          .number()
          .min(0)
          .max(0.5)
          .default(0.2)
          .describe(
            "the share of each benchmark's rows held out as its validation part (chosen by a hash of the row's content, the same on " +
              'every host): stages.choose picks on it, and the reported scores are on the other rows only. 0 = no split (every row ' +
              'is a test row; stages.choose then needs enabled: false); own harness only',
          ),
      })
      .prefault({}),
  })
  .prefault({});
