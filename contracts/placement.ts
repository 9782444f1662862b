// Which worker pool each stage's GPU work goes to, from the recipe's `resources` (contracts/resources.ts).
// Free of zod on purpose: workflows import it, and the workflow bundle carries no schema library.
import type { QueueRole } from './queues';
import type { ResourceClass, Resources, Route } from './resources';

/** The pool each GPU role of one stage's work goes to (its declaration says, from the routes). */
export type Placement = Partial<Record<Exclude<QueueRole, 'cpu'>, ResourceClass | undefined>>;

/** The stage's queues: its roles' queues, each replaced by the queue of the pool it is placed on. */
export function placedQueues(queues: Record<QueueRole, string>, placement: Placement | undefined): Record<QueueRole, string> {
  const placed = { ...queues };
  for (const [role, pool] of Object.entries(placement ?? {})) if (pool) placed[role as QueueRole] = pool.queue;
  return placed;
}

/**
 * The class a route names, if any (unrouted work stays on its role's queue); `student` picks that
 * student's own route for `sft`.
 */
export function classOf(resources: Resources, route: Route, student?: string): ResourceClass | undefined {
  const name = (route === 'sft' && student !== undefined ? resources.students[student] : undefined) ?? resources[route];
  return name === undefined ? undefined : resources.classes[name];
}
