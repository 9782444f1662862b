// How much local scratch each pool's workers need, by `hala doctor`'s conservative reckoning. The plan
// (cli/plan/estimate.ts) sizes artifacts per stage but not the work directories, so this derives one
// from the model sizes the plan knows (recipe estimates.params_b, or the headers of local models):
// every model a route loads or writes is counted at the bytes per parameter it may hold on disk, and
// a pool needs the sum over its routes, since stage work directories stay across attempts.
import type { Recipe } from '../../contracts/recipe';
import type { CampaignPlan } from '../plan/estimate';
import type { Measured } from '../plan/measure';
import type { DoctorPool } from './pools';

export interface ScratchNeed {
  bytes: number;
  /** What the figure is made of, quoted in the row. */
  basis: string;
}

/** Bytes a parameter of each model may take on a route's disk, and why. */
function routeModels(recipe: Recipe, route: string): { uri: string; bytesPerParam: number; why: string }[] {
  const { teacher } = recipe.inputs;
  const translator = recipe.stages.train_translator.base;
  const students = recipe.stages.sft.students;
  if (route === 'compress') return [{ uri: teacher, bytesPerParam: 3, why: 'BF16 read + FP8 written' }];
  if (route === 'teacher') return [{ uri: teacher, bytesPerParam: 3, why: 'BF16 for the check + FP8' }];
  if (route === 'translator') return [{ uri: translator, bytesPerParam: 4, why: 'base + tuned, BF16' }];
  if (route === 'train_translator') return [{ uri: translator, bytesPerParam: 16, why: 'base + FP32 weights and Adam moments in checkpoints + final' }];
  if (route.startsWith('sft:')) {
    const s = students.find((x) => `sft:${x.name}` === route);
    return s ? [{ uri: s.base, bytesPerParam: 16, why: 'base + FP32 weights and Adam moments in checkpoints + final' }] : [];
  }
  if (route === 'merge') return students.map((s) => ({ uri: s.base, bytesPerParam: 6, why: 'base + tuned + merged, BF16' }));
  if (route === 'evaluate') return students.map((s) => ({ uri: s.base, bytesPerParam: 2, why: 'the merged student, BF16' }));
  return []; // score reads two parquet files
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 1e8 ? 3 : 1)} GB`;
const short = (uri: string) => uri.replace(/^hf:\/\//, '');

export function scratchNeed(recipe: Recipe, pool: DoctorPool, measured: Measured, plan: CampaignPlan): ScratchNeed {
  if (pool.roles.includes('cpu')) {
    const datasets = plan.stages.filter((s) => s.unit !== 'weights' && !['train-translator', 'sft'].includes(s.kind));
    const known = datasets.filter((s) => s.artifact_gb !== undefined);
    const bytes = known.reduce((a, s) => a + s.artifact_gb! * 1e9, 0);
    const unknown = datasets.length - known.length;
    return { bytes: Math.round(bytes), basis: `the plan's dataset artifacts (${known.map((s) => s.stage).join(', ') || 'none sized'})${unknown ? `; ${unknown} stage(s) unsized` : ''}` };
  }
  const params = { ...measured.params_b, ...recipe.estimates.params_b };
  const parts: string[] = [];
  const unsized = new Set<string>();
  let bytes = 0;
  for (const route of pool.routes) {
    for (const m of routeModels(recipe, route)) {
      const b = params[m.uri];
      if (b === undefined) {
        unsized.add(short(m.uri));
        continue;
      }
      const need = b * 1e9 * m.bytesPerParam;
      bytes += need;
      parts.push(`${route}: ${short(m.uri)} ${+b.toPrecision(3)}B params x ${m.bytesPerParam} bytes (${m.why}) = ${gb(need)}`);
    }
  }
  const missing = unsized.size ? `; size unknown (set estimates.params_b): ${[...unsized].join(', ')}` : '';
  return { bytes: Math.round(bytes), basis: `model sizes the plan knows: ${parts.join('; ') || 'none'}${missing}` };
}
