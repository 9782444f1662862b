// The pools a recipe routes work to, as `hala doctor` probes them: one per distinct task queue.
// A ROUTES entry (or a student's own route) that names a class goes to that class's queue; one that
// names none goes to its role's queue (recipe.queues); the cpu queue is always a pool.
import type { ExpectedGpus, HubSource } from '../../contracts/doctor';
import { splitHubRevision } from '../../contracts/hub-revision';
import type { QueueRole } from '../../contracts/queues';
import type { Recipe } from '../../contracts/recipe';
import { ROUTES, type Route } from '../../contracts/resources';
import { dryRun } from '../../workflows/stages/plan';
import { perStudent } from '../../workflows/stages/students';

export interface DoctorPool {
  /** The class's name, or the role's where no class names the queue. */
  pool: string;
  queue: string;
  /** The role of the work routed here; a queue one recipe sends two roles' work to lists both. */
  roles: QueueRole[];
  /** The routes (and `sft:<student>`) whose work lands here. */
  routes: string[];
  /** What the class promises each worker; absent on a role queue. */
  expected?: ExpectedGpus;
}

export function recipePools(recipe: Recipe): DoctorPool[] {
  const pools = new Map<string, DoctorPool>();
  const add = (route: string, role: QueueRole, className: string | undefined) => {
    const pool = className ? recipe.resources.classes[className] : undefined;
    const queue = pool?.queue ?? recipe.queues[role];
    const row = pools.get(queue) ?? { pool: className ?? role, queue, roles: [], routes: [] };
    if (pool && !row.expected) row.expected = { gpus: pool.gpus, gpu_type: pool.gpu_type, ...(pool.gpu_memory_gb ? { gpu_memory_gb: pool.gpu_memory_gb } : {}) };
    if (!row.roles.includes(role)) row.roles.push(role);
    row.routes.push(route);
    pools.set(queue, row);
  };
  add('workflows and data plane', 'cpu', undefined);
  const students = perStudent.names(recipe);
  for (const [route, { role }] of Object.entries(ROUTES) as [Route, (typeof ROUTES)[Route]][]) {
    if (route !== 'sft') add(route, role, recipe.resources[route]);
  }
  // `sft` covers every student without a class of its own.
  for (const student of students) add(`sft:${student}`, 'train', recipe.resources.students[student] ?? recipe.resources.sft);
  return [...pools.values()];
}

/**
 * Every hf:// source the recipe's stages read, with the recipe field that holds it, its revision split
 * off: the sources each declaration names in its `inputs`, met by a dry run of the recipe's stages.
 */
export async function recipeHubSources(recipe: Recipe): Promise<HubSource[]> {
  const byField = new Map<string, string>();
  await dryRun(recipe, (declaration, i, _stage, _producers, _after, upstream) => {
    for (const input of declaration.inputs(declaration.slice(recipe, i), upstream, i)) {
      // Upstream digests are stand-ins here; a source is a SourceCheck with its field.
      if (typeof input === 'object' && typeof input.field === 'string' && !byField.has(input.field)) byField.set(input.field, input.uri);
    }
  });
  return [...byField]
    .filter(([, uri]) => uri.startsWith('hf://'))
    .map(([field, uri]) => {
      const { uri: id, revision } = splitHubRevision(uri);
      return revision ? { field, id, revision } : { field, id };
    });
}
