// stages.choose: per student, the model the campaign keeps (SFT, merged at stages.merge.t, or a
// merge at one of a few other t), picked on the validation split held out of the benchmarks.
import { z } from 'zod';
import { fraction } from '../numbers';

export const ChooseKnobs = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'score the SFT model, the merge at stages.merge.t and the sweep on the validation split of the benchmarks ' +
          '(stages.evaluate.validation) and benchmark the best beside them; false: no choice, evaluate reads the merged model',
      ),
    sweep: z
      .array(fraction())
      .default([0.3, 0.7])
      .describe('extra slerp t merged and scored as candidates (t equal to stages.merge.t is not merged twice); [] = no sweep'),
  })
  .prefault({});

/** What choosing needs of the rest of the recipe (run by recipe-rules.ts): a validation split to choose on. */
export function checkChoose(stages: { choose: z.infer<typeof ChooseKnobs>; evaluate: { harness: string; validation: { fraction: number } } }, ctx: z.RefinementCtx): void {
  if (!stages.choose.enabled) return;
  const off = 'set stages.choose.enabled: false to benchmark the merged model without choosing';
  if (stages.evaluate.harness !== 'own') {
    // lighteval loads its leaderboard tasks itself: their rows cannot be split by our hash.
    ctx.addIssue({ code: 'custom', path: ['stages', 'choose', 'enabled'], message: `chooses on a validation split of the benchmark files, which harness ${stages.evaluate.harness} does not read (it loads the leaderboard's tasks whole): set stages.evaluate.harness: own, or ${off}` });
  } else if (stages.evaluate.validation.fraction === 0) {
    ctx.addIssue({ code: 'custom', path: ['stages', 'choose', 'enabled'], message: `needs a validation split to choose on, and stages.evaluate.validation.fraction is 0: give it a fraction (e.g. 0.2), or ${off}` });
  }
}
