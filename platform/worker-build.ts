// platform/: plumbing that cli, workers and activities share; it imports only contracts/ and security/.
// Which build of Hala Flow a worker is, for Temporal's Worker Deployments: every worker of one build
// (the CPU worker and the Python workers of every pool) joins the version `<deployment>:<build id>`,
// and a campaign is pinned to the version it started on, with its stages, its fan-outs and their
// activities, until it ends (deploy/README.md, "Upgrading"). Unset, workers are unversioned: one
// build at a time, as on a laptop.
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { CODE_VERSION } from '../contracts/version';

export interface WorkerBuild {
  deploymentName: string;
  buildId: string;
}

/** The deployment every Hala worker joins unless HALA_DEPLOYMENT_NAME names another (a second Hala on one namespace). */
export const DEFAULT_DEPLOYMENT_NAME = 'hala';

/**
 * The build from HALA_BUILD_ID (`<code version>+<commit>`, set by scripts/build-images.sh in every
 * image) and HALA_DEPLOYMENT_NAME; undefined when no build id is set. A build id of another code
 * version is refused: the build is how a campaign finds workers of its release.
 */
export function workerBuildFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerBuild | undefined {
  const buildId = env.HALA_BUILD_ID?.trim();
  if (!buildId) return undefined;
  if (buildId !== CODE_VERSION && !buildId.startsWith(`${CODE_VERSION}+`)) {
    throw new Error(`HALA_BUILD_ID=${buildId} is not a build of this code (${CODE_VERSION}): it must be ${CODE_VERSION}+<commit>, as scripts/build-images.sh sets it`);
  }
  return { deploymentName: env.HALA_DEPLOYMENT_NAME?.trim() || DEFAULT_DEPLOYMENT_NAME, buildId };
}

/**
 * The worker options of a build: its workflows are pinned (a deploy never changes the code under a
 * running campaign; the translation fan-out moves at its continue-as-new boundary, translate-corpus.ts).
 */
export function deploymentOptions(build: WorkerBuild): WorkerDeploymentOptions {
  return { version: { deploymentName: build.deploymentName, buildId: build.buildId }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}
