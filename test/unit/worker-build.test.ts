// HALA_BUILD_ID: the Worker Deployment version a worker joins, which must be a build of this code.
import { describe, expect, it } from 'vitest';
import { CODE_VERSION } from '../../contracts/version';
import { deploymentOptions, workerBuildFromEnv } from '../../platform/worker-build';

describe('workerBuildFromEnv', () => {
  it('is unversioned without HALA_BUILD_ID', () => {
    expect(workerBuildFromEnv({})).toBeUndefined();
    expect(workerBuildFromEnv({ HALA_BUILD_ID: '  ' })).toBeUndefined();
  });

  it('joins hala:<build id>, or the deployment HALA_DEPLOYMENT_NAME names, pinning its workflows', () => {
    const build = workerBuildFromEnv({ HALA_BUILD_ID: `${CODE_VERSION}+1a2b3c4d5e6f` });
    expect(build).toEqual({ deploymentName: 'hala', buildId: `${CODE_VERSION}+1a2b3c4d5e6f` });
    expect(workerBuildFromEnv({ HALA_BUILD_ID: CODE_VERSION, HALA_DEPLOYMENT_NAME: 'hala-team-b' })?.deploymentName).toBe('hala-team-b');
    expect(deploymentOptions(build!)).toEqual({ version: { deploymentName: 'hala', buildId: `${CODE_VERSION}+1a2b3c4d5e6f` }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' });
  });

  it('refuses a build id of another code version, naming the variable and the form', () => {
    expect(() => workerBuildFromEnv({ HALA_BUILD_ID: '0.1.0+abc' })).toThrow(`HALA_BUILD_ID=0.1.0+abc is not a build of this code (${CODE_VERSION}): it must be ${CODE_VERSION}+<commit>`);
    expect(() => workerBuildFromEnv({ HALA_BUILD_ID: `${CODE_VERSION}0+abc` })).toThrow(/not a build of this code/);
  });
});
