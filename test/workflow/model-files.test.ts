// A campaign whose student base has a truncated safetensors file: the first stage that opens on it
// fails at once with BadInput naming stages.sft.students[1].base and the file (one openStage, no
// retry), and no GPU activity is handed the broken model (which a runner would fail RunnerFailed
// three times on, "SafetensorError: incomplete metadata").
import { cp, mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignInput } from '../../cli/start-campaign';
import type { campaign } from '../../workflows/campaign';
import { hubMirror } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';

describe('model files checked at stage open', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let dir: string;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    dir = await mkdtemp(path.join(os.tmpdir(), 'hala-wf-model-files-'));
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { delayMs: 1 });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a student base truncated by one byte stops its stage at open, naming the field and the file', async () => {
    const model = path.join(dir, 'lfm2-700m');
    await cp(path.join(process.env.HALA_HUB_MIRROR!, 'hala-tiny', 'lfm2-700m'), model, { recursive: true });
    const weights = path.join(model, 'model.safetensors');
    const size = (await stat(weights)).size;
    await truncate(weights, size - 1);
    const { recipe, sha, fakes } = harness;
    const students = recipe.stages.sft.students.map((s, i) => (i === 1 ? { ...s, base: `file://${model}` } : s));
    const bad = { ...recipe, stages: { ...recipe.stages, sft: { ...recipe.stages.sft, students } } };

    const handle = await env.client.workflow.start<typeof campaign>('campaign', { taskQueue: bad.queues.cpu, workflowId: 'wf-truncated-base', args: [campaignInput(bad, sha, { id: 'wf-truncated-base' })] });
    const failure = (await handle.result().catch((e: unknown) => e)) as Error;
    const message = String((failure.cause as Error | undefined)?.message);
    const said = `stages.sft.students[1].base = file://${model}: ${weights} is ${size - 1} bytes, but its header places tensor data up to byte ${size}`;
    expect(message).toMatch(/-hala-700m \(BadInput: openStage [a-z]+-hala-700m: /);
    expect(message).toContain(said);
    expect(message).toContain('fetch the model again');
    expect(message).not.toContain('RunnerFailed');

    // Each stage that declares the base opened once (a retry would open again); none reached a GPU queue with it.
    const opens = fakes.calls.filter((c) => c.name === 'openStage' && (c.input.inputs as string[]).includes(`file://${model}`));
    expect(opens.length).toBeGreaterThan(0);
    expect(new Set(opens.map((c) => c.input.stage)).size).toBe(opens.length);
    const handed = fakes.calls.filter((c) => c.name !== 'openStage' && JSON.stringify(c.input).includes(model));
    expect(handed.map((c) => c.name)).toEqual([]);
  });
});
