// What a stage's GPU work cost, as the report shows it: priced by contracts/gpu-cost.ts on the pools it ran on.
import { priceActivities } from '../../contracts/gpu-cost';
import type { ActivitySummary } from '../../contracts/lineage';
import type { Placement } from '../../contracts/placement';
import type { Recipe } from '../../contracts/recipe';
import type { ResourceClass } from '../../contracts/resources';
import { declarationOf } from '../../workflows/stages/plan';

export interface StageCost {
  gpu_seconds: number;
  /** Absent when some GPU-seconds ran on a queue without a resource class, hence without a price. */
  cost?: number;
  /** Queue role -> class name, for the roles the recipe routes. */
  classes: Record<string, string>;
  note?: string;
}

/** The pools a stage's roles were placed on, as its declaration placed them when the campaign ran it. */
export function placementOf(recipe: Recipe, stage: string, kind: string): Placement {
  const declaration = declarationOf(kind);
  if (!declaration?.placement) return {};
  for (let i = 0; i < declaration.count(recipe); i++) if (declaration.name(recipe, i) === stage) return declaration.placement(recipe, i);
  return {};
}

const classNameOf = (recipe: Recipe, pool: ResourceClass) => Object.entries(recipe.resources.classes).find(([, c]) => c === pool)?.[0] ?? pool.queue;

export function stageCost(activities: ActivitySummary[], recipe: Recipe | undefined, stage: string, kind: string): StageCost {
  if (!recipe) return { gpu_seconds: activities.reduce((sum, a) => sum + a.gpu_seconds, 0), classes: {}, note: 'the recipe is unknown, so are its prices' };
  const placement = placementOf(recipe, stage, kind);
  const classes = Object.fromEntries(Object.entries(placement).flatMap(([role, pool]) => (pool ? [[role, classNameOf(recipe, pool)]] : [])));
  const { gpu_seconds, cost, unpriced } = priceActivities(activities, placement);
  if (unpriced.length > 0) return { gpu_seconds, classes, note: `no resource class, so no price, for ${unpriced.join(', ')}: set resources.classes and a route in the recipe` };
  return { gpu_seconds, cost, classes };
}
