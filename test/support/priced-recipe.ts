// The tiny recipe with priced resource classes on pools of their own, every route set: what the
// report tests price stages with (each pool a different price, so a wrong route shows).
import { Resources } from '../../contracts/resources';
import type { Recipe } from '../../contracts/recipe';

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
    merge: 'train-a',
    evaluate: 'eval-a',
  });
  return { ...base, resources };
}
