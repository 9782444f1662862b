// The pools a recipe routes work to, as `hala doctor` probes them: one per distinct task queue.
// A ROUTES entry (or a student's own route) that names a class goes to that class's queue; one that
// names none goes to its role's queue (recipe.queues); the cpu queue is always a pool.
import type { ExpectedGpus, HubSource } from '../../contracts/doctor';
import { splitHubRevision } from '../../contracts/hub-revision';
import type { QueueRole } from '../../contracts/queues';
import type { Recipe } from '../../contracts/recipe';
import { ROUTES, type Route } from '../../contracts/resources';
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

/** Every hf:// source of the recipe with the field that holds it, its revision split off. */
export function recipeHubSources(recipe: Recipe): HubSource[] {
  const { inputs, stages } = recipe;
  const named: [string, string][] = [
    ['inputs.teacher', inputs.teacher],
    ['inputs.opus', inputs.opus],
    ['inputs.translation_dev', inputs.translation_dev],
    ['inputs.open_orca', inputs.open_orca],
    ...inputs.instruction_sets.map((s, i): [string, string] => [`inputs.instruction_sets[${i}].uri`, s.uri]),
    ...inputs.benchmarks.map((b, i): [string, string] => [`inputs.benchmarks[${i}].uri`, b.uri]),
    ['stages.train_translator.base', stages.train_translator.base],
    ...stages.sft.students.map((s, i): [string, string] => [`stages.sft.students[${i}].base`, s.base]),
  ];
  return named
    .filter(([, uri]) => uri.startsWith('hf://'))
    .map(([field, uri]) => {
      const { uri: id, revision } = splitHubRevision(uri);
      return revision ? { field, id, revision } : { field, id };
    });
}
