// Worker Deployments on the real dev server: two builds of Hala Flow serve the same queues (every
// worker of a build joins its version, platform/worker-build.ts). A campaign started on build A
// stays on A, with its stages and their GPU activities, after B becomes current; one started after
// runs on B; a translation fan-out of A that continues-as-new moves to B at that boundary (same
// release), and its later shards are translated by B's workers. What `temporal workflow describe`
// shows is read through DescribeWorkflowExecution's versioning info.
import { rmSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveGate } from '../../cli/approve';
import { renderCampaignBuilds, runningCampaignBuilds } from '../../cli/builds';
import { renderWorkers } from '../../cli/steer';
import { queueWorkers } from '../../platform/task-queue-pollers';
import { startCampaign } from '../../cli/start-campaign';
import { Gate } from '../../contracts/gates';
import type { Recipe } from '../../contracts/recipe';
import { CODE_VERSION } from '../../contracts/version';
import { progressQuery } from '../../workflows/definitions';
import { hubMirror } from '../../platform/python-env';
import type { WorkerBuild } from '../../platform/worker-build';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';

const A: WorkerBuild = { deploymentName: 'hala-test', buildId: `${CODE_VERSION}+aaaaaaa` };
const B: WorkerBuild = { deploymentName: 'hala-test', buildId: `${CODE_VERSION}+bbbbbbb` };

/** Makes a build current, once the server has seen its pollers (until then the version does not exist). */
async function makeCurrent(client: Client, build: WorkerBuild): Promise<void> {
  await until(`build ${build.buildId} to become current`, async () => {
    try {
      await client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: 'default', deploymentName: build.deploymentName, buildId: build.buildId, identity: 'test' });
      return true;
    } catch {
      return false;
    }
  });
}

/** The build a run is pinned to, as `temporal workflow describe` shows it under "Versioning Info". */
async function buildOf(client: Client, workflowId: string, runId?: string): Promise<string | undefined> {
  const described = await client.workflow.getHandle(workflowId, runId).describe();
  return described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
}

describe('worker versioning', () => {
  let env: TestWorkflowEnvironment;
  let onA: CampaignHarness;
  let onB: CampaignHarness | undefined;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    onA = await startCampaignHarness(env, { build: A, delayMs: 20 });
  }, 120_000);

  afterAll(async () => {
    await onB?.stop();
    await onA?.stop();
    await env?.teardown();
    if (onA?.storeDir) rmSync(onA.storeDir, { recursive: true, force: true });
  });

  it('keeps a campaign on the build it started on, starts the next on the current one, and moves a fan-out at continue-as-new', async () => {
    const { client } = env;
    await makeCurrent(client, A);
    // One shard per fan-out run: each instruction set's fan-out continues-as-new after every shard.
    const base: Recipe = { ...onA.recipe, fan_out: { ...onA.recipe.fan_out, shards_per_run: 1 } };
    const held: Recipe = { ...base, gates: [Gate.parse({ name: 'hold', before: 'translate-instructions' })] };
    const first = await startCampaign(client, held, onA.sha, { id: 'on-a' });
    await until('on-a to reach its gate', async () => (await first.query(progressQuery)).gates?.[0]?.state === 'waiting');

    // Build B comes up on the same queues and store, and becomes current.
    onB = await startCampaignHarness(env, { build: B, delayMs: 20, storeDir: onA.storeDir });
    await makeCurrent(client, B);
    // A fresh campaign (no cache: its own work, not on-a's) starts on B.
    const second = await startCampaign(client, base, onA.sha, { id: 'on-b', useCache: false });
    // hala workers: both builds poll the CPU queue; each running campaign is on its own build.
    const cpu = await queueWorkers(client, 'default', { cpu: base.queues.cpu });
    expect(new Set(cpu[0]!.pollers.map((p) => p.build))).toEqual(new Set([`hala-test:${A.buildId}`, `hala-test:${B.buildId}`]));
    expect(renderWorkers(cpu)).toMatch(/hala-test:0\.5\.\d+\+aaaaaaa ×1, hala-test:0\.5\.\d+\+bbbbbbb ×1|hala-test:0\.5\.\d+\+bbbbbbb ×1, hala-test:0\.5\.\d+\+aaaaaaa ×1/);
    // A run is pinned once a worker of a build completes its first workflow task.
    let running = await runningCampaignBuilds(client);
    await until('on-b to be pinned', async () => (running = await runningCampaignBuilds(client)).every((c) => c.build));
    expect(running).toEqual([{ campaign: 'on-a', build: `hala-test:${A.buildId}` }, { campaign: 'on-b', build: `hala-test:${B.buildId}` }]);
    expect(renderCampaignBuilds(running)).toBe(`running campaigns by build:\n  hala-test:${A.buildId}  on-a\n  hala-test:${B.buildId}  on-b`);
    await approveGate(client, 'on-a', 'hold', { by: 'test' });
    await Promise.all([first.result(), second.result()]);

    expect(await buildOf(client, 'on-a')).toBe(A.buildId);
    expect(await buildOf(client, 'on-a/sft-hala-350m')).toBe(A.buildId);
    expect(await buildOf(client, 'on-b')).toBe(B.buildId);
    expect(await buildOf(client, 'on-b/sft-hala-350m')).toBe(B.buildId);

    // on-a's students trained on A's workers, after B was current; B trained only on-b's.
    const students = (h: CampaignHarness) => h.fakes.calls.filter((c) => c.name === 'train_sft' && String(c.input.output_prefix).includes('/stages/sft-'));
    expect(students(onA)).toHaveLength(3);
    expect(students(onB)).toHaveLength(3);

    // The fan-out of on-a: its first run on A, the runs after its first boundary on B.
    const fanOut = 'on-a/translate-instructions/translate-hermes-3';
    const runs: { runId: string; start: number }[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${fanOut}"` })) runs.push({ runId: wf.runId, start: wf.startTime.getTime() });
    runs.sort((x, y) => x.start - y.start);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const builds = await Promise.all(runs.map((r) => buildOf(client, fanOut, r.runId)));
    expect(builds[0]).toBe(A.buildId);
    expect(builds.slice(1)).toEqual(runs.slice(1).map(() => B.buildId));
    // ... and B's infer workers translated some of on-a's shards (on-b, uncached, writes below forced-<run>/).
    const onAShards = (h: CampaignHarness) =>
      h.fakes.calls.filter((c) => c.name === 'translate_shard' && /\/stages\/translate-instructions\/[0-9a-f]{16}\/(?!forced-)/.test(String(c.input.output_prefix)));
    expect(onAShards(onA).length).toBeGreaterThan(0);
    expect(onAShards(onB).length).toBeGreaterThan(0);
  }, 240_000);
});
