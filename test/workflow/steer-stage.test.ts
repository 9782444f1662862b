// `hala steer` on a running stage of a real campaign (dev server, recording stand-ins): the
// translator's training is paused mid-run, moved to another pool's queue while paused, and
// unpaused; its next attempt runs there, at attempt 1, handed the checkpoint the paused attempt
// last heartbeated, and the campaign completes. Its stall limit is steered on the way (the stage
// keeps it for its running activities to ask: gpu-runners/tests/test_live_limits.py). The Python side of a pause (the runner
// checkpointing on the way out) is gpu-runners/tests/test_steering.py, on a real tiny SFT.
import { rmSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../cli/start-campaign';
import { updateStageOptions } from '../../cli/steer-options';
import { stageActivities, steerStage } from '../../cli/steer-stage';
import type { GpuActivityFns } from '../../contracts/gpu-activity-fns';
import { hubMirror } from '../../platform/python-env';
import { supervisionQuery } from '../../workflows/definitions';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';

const MOVED_TO = 'hala-gpu-train-spare';

interface Attempt {
  queue: string;
  attempt: number;
  /** The heartbeat the attempt was handed: where a real runner resumes from. */
  resume?: unknown;
}

describe('hala steer on a running stage', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let spare: Worker | undefined;
  let spareRun: Promise<void> | undefined;
  const attempts: Attempt[] = [];

  /** The translator's training heartbeats a checkpoint every step until cancelled; anywhere but the spare pool it never ends. */
  const translatorTraining = (delegate: GpuActivityFns['train_sft']): GpuActivityFns['train_sft'] => async (input) => {
    if (!String(input.output_prefix).includes('/stages/train-translator/')) return delegate(input);
    const ctx = Context.current();
    attempts.push({ queue: ctx.info.taskQueue, attempt: ctx.info.attempt, resume: ctx.info.heartbeatDetails });
    if (ctx.info.taskQueue === MOVED_TO) return delegate(input);
    for (let step = 1; ; step++) {
      ctx.heartbeat({ phase: 'train', done: step, total: 1000, checkpoint_uri: `${input.output_prefix}/checkpoint-${step}`, metrics: {} });
      await ctx.sleep(100); // throws when the activity is cancelled (a pause reaches it at a heartbeat)
    }
  };

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { delayMs: 10, gpu: (fakes) => ({ train_sft: translatorTraining(fakes.train_sft) }) });
    spare = await Worker.create({
      connection: env.nativeConnection, taskQueue: MOVED_TO, maxHeartbeatThrottleInterval: '200ms',
      activities: { train_sft: translatorTraining(harness.fakes.gpu.train_sft) },
    });
    spareRun = spare.run();
  }, 120_000);

  afterAll(async () => {
    spare?.shutdown();
    await spareRun;
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  it('pauses a training mid-run, moves it to another pool, and resumes it there at attempt 1 from its checkpoint', async () => {
    const { client } = env;
    const id = 'steer-move';
    const handle = await startCampaign(client, harness.recipe, harness.sha, { id });
    const pending = () => stageActivities(client, id, 'train-translator');
    // Running, past a few heartbeated checkpoints.
    await until('the translator to train', async () => attempts.length > 0);
    await new Promise((r) => setTimeout(r, 800));

    // The stall limit its runner is watched with: kept by the stage, which the running activity asks.
    expect(await updateStageOptions(client, id, 'train-translator', { stallS: 7200 })).toMatch(/stall limit 7200 s/);
    expect(await client.workflow.getHandle(`${id}/train-translator`).query(supervisionQuery)).toEqual({ stall_s: 7200 });

    expect(await steerStage(client, id, 'train-translator', 'pause')).toMatch(/^pausing train_sft \d+: a running runner checkpoints/);
    await until('the training to be paused', async () => (await pending()).every((a) => a.paused));
    // Paused: nothing runs it, on any queue.
    const before = attempts.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(attempts.length).toBe(before);
    await expect(steerStage(client, id, 'train-translator', 'pause')).rejects.toThrow('stage train-translator is already paused');

    expect(await updateStageOptions(client, id, 'train-translator', { queue: MOVED_TO })).toMatch(new RegExp(`queue ${MOVED_TO} from the next attempt`));
    expect(await steerStage(client, id, 'train-translator', 'unpause')).toMatch(/^unpaused train_sft \d+: the next attempt resumes from the last checkpoint/);
    await handle.result();

    const [first, moved] = [attempts[0]!, attempts.at(-1)!];
    expect(first).toMatchObject({ queue: harness.recipe.queues.train, attempt: 1 });
    expect(moved).toMatchObject({ queue: MOVED_TO, attempt: 1 });
    expect(attempts).toHaveLength(2);
    expect(String((moved.resume as { checkpoint_uri?: string } | undefined)?.checkpoint_uri)).toMatch(/\/stages\/train-translator\/.*\/checkpoint-\d+$/);
  }, 180_000);
});
