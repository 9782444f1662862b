// Which build the worker's deployment sends new work to now: what a pinned translation fan-out asks
// at its continue-as-new boundary when Temporal says the target moved (translate-corpus.ts), to move
// only to a build of its own release.
import { Context } from '@temporalio/activity';
import type { WorkerBuild } from '../platform/worker-build';

export function createDeploymentTargetActivities(build: WorkerBuild | undefined) {
  return {
    /** The current version's build id of this worker's deployment; null when unversioned or none is current. */
    async deploymentTarget(): Promise<{ build_id: string | null }> {
      if (!build) return { build_id: null };
      const { client } = Context.current();
      const described = await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName: build.deploymentName });
      return { build_id: described.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId ?? null };
    },
  };
}
