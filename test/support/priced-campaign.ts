// The tiny recipe with priced resource classes on pools of their own, every route set, run by the
// campaign harness: what the report tests price stages with (each pool a different price, so a
// wrong route shows).
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadRecipe } from '../../cli/recipe-file';
import { Resources } from '../../contracts/resources';
import type { Recipe } from '../../contracts/recipe';
import { hubMirror } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from './campaign-harness';

export const PRICES = { quantize: 4, infer: 2, eval: 1, train: 3 } as const;

export function pricedRecipe(base: Recipe): Recipe {
  const pool = (role: keyof typeof PRICES) => ({ queue: `hala-report-${role}`, gpu_type: 'T4', price_per_gpu_hour: PRICES[role] });
  const resources = Resources.parse({
    classes: { 'quantize-a': pool('quantize'), 'infer-a': pool('infer'), 'eval-a': pool('eval'), 'train-a': pool('train') },
    compress: 'quantize-a',
    teacher: 'infer-a',
    translator: 'infer-a',
    score: 'eval-a',
    train_translator: 'train-a',
    sft: 'train-a',
    merge: 'quantize-a',
    evaluate: 'eval-a',
  });
  return { ...base, resources };
}

/** The harness on the priced tiny recipe; the training of the stage `failing()` names fails for good. */
export async function startPricedHarness(env: TestWorkflowEnvironment, failing: () => string | undefined): Promise<CampaignHarness> {
  process.env.HALA_HUB_MIRROR ||= hubMirror(); // openStage digests hf:// sources from the offline mirror
  const tiny = loadRecipe(path.join(__dirname, '../../recipes/tiny.yaml'));
  if (!tiny.ok) throw new Error(tiny.problems.join('\n'));
  return startCampaignHarness(env, {
    recipe: pricedRecipe(tiny.recipe),
    fails: (name, input) => name === 'train_sft' && failing() !== undefined && String(input.output_prefix).includes(`/stages/${failing()}/`),
  });
}
