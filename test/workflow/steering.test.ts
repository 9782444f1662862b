// Steering verbs on the real dev server (`hala pause | resume | cancel | ls | workers`): each is
// one Temporal call, checked by what the campaign then does. GPU and data-plane activities are the
// recording stand-ins, slowed down so that there is a running campaign to steer.
import { rmSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelCampaign, listCampaigns, NotSteerable, pauseCampaign, renderCampaigns, renderWorkers, resumeCampaign } from '../../cli/steer';
import { queueWorkers } from '../../platform/task-queue-pollers';
import { startCampaign } from '../../cli/start-campaign';
import { DefaultQueues } from '../../contracts/queues';
import type { Recipe } from '../../contracts/recipe';
import { progressQuery } from '../../workflows/definitions';
import { hubMirror } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';

describe('steering a campaign', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let recipe: Recipe;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { delayMs: 150 });
    recipe = harness.recipe;
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  // Started as `hala run` starts it (memo, search attributes); a seed of its own: no stage that reads it is cached.
  const start = (id: string, seed: number) => startCampaign(env.client, { ...recipe, seed }, harness.sha, { id });

  it('pause holds new stages, ls shows it paused, resume lets it finish', async () => {
    const handle = await start('steer-paused', 11);
    await until('a first stage', async () => (await handle.query(progressQuery)).stages.some((s) => s.status !== 'pending'));
    expect(await pauseCampaign(env.client, 'steer-paused')).toMatch(/^paused steer-paused: .*hala resume steer-paused$/);
    await until('the pause', async () => (await handle.query(progressQuery)).state === 'paused');
    const row = (await listCampaigns(env.client)).find((r) => r.id === 'steer-paused');
    expect(row).toMatchObject({ status: 'running', recipe: recipe.name, stages: expect.stringMatching(/^\d+\/18 \(paused\)$/) });
    expect(renderCampaigns([row!])).toMatch(/^campaign\s+status\s+stages\s+recipe\s+started\nsteer-paused\s+running\s+\d+\/18 \(paused\)/);
    expect(await resumeCampaign(env.client, 'steer-paused')).toBe('resumed steer-paused');
    expect((await handle.result()).progress.state).toBe('completed');
    // Visibility follows the close within moments: wait for it rather than read it once.
    await until('ls shows it completed', async () => (await listCampaigns(env.client)).find((r) => r.id === 'steer-paused')?.status === 'completed', 15_000);
  }, 180_000);

  it('cancel ends the campaign cancelled, not failed, and its running stages with it', async () => {
    const handle = await start('steer-cancelled', 12);
    // The first two stages come from the pause test's cache (the seed is in neither key) and finish in
    // milliseconds; build-bilingual-corpus reads the seed, so it really runs (three paced activities).
    await until('build-bilingual-corpus running', async () => (await handle.query(progressQuery)).stages.some((s) => s.stage === 'build-bilingual-corpus' && s.status === 'running'), 60_000, 50);
    expect(await cancelCampaign(env.client, 'steer-cancelled')).toMatch(/^cancel requested for steer-cancelled: /);
    const failure = await handle.result().then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    // Its stage workflows (and their fan-outs): none left running (each was cancelled, or had just
    // finished when the request came), and no stage starts after it.
    let children: string[] = [];
    // Visibility follows closes within moments: wait for it rather than read it once.
    await until('every stage closed', async () => {
      children = [];
      for await (const wf of env.client.workflow.list({ query: 'WorkflowId STARTS_WITH "steer-cancelled/"' })) children.push(wf.status.name);
      return !children.includes('RUNNING');
    }, 15_000);
    expect(children.every((status) => status === 'CANCELLED' || status === 'COMPLETED')).toBe(true);
    const progress = await handle.query(progressQuery);
    expect(progress.state).toBe('cancelled');
    // Each stage says how it ended: the ones the cancel stopped are cancelled, not failed.
    const ended = new Map<string, string>();
    for await (const wf of env.client.workflow.list({ query: 'WorkflowId STARTS_WITH "steer-cancelled/"' })) ended.set(wf.workflowId, wf.status.name);
    expect([...ended.values()]).toContain('CANCELLED');
    for (const s of progress.stages.filter((s) => ended.get(s.workflow_id) === 'CANCELLED')) expect(s.status, s.stage).toBe('cancelled');
    expect(progress.stages.filter((s) => s.status === 'failed')).toEqual([]);
    expect(progress.stages.filter((s) => s.status === 'pending').length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1000));
    const later: string[] = [];
    for await (const wf of env.client.workflow.list({ query: 'WorkflowId STARTS_WITH "steer-cancelled/"' })) later.push(wf.workflowId);
    expect(later.length).toBe(children.length);
  }, 180_000);

  it('refuses to steer a campaign that is not running, or not there, saying which', async () => {
    await expect(pauseCampaign(env.client, 'steer-paused')).rejects.toThrow(new NotSteerable('campaign steer-paused is completed: only a running campaign can be steered'));
    await expect(cancelCampaign(env.client, 'no-such-campaign')).rejects.toThrow(/^no campaign no-such-campaign in this namespace \(hala ls lists them\)$/);
  });

  it('workers: who polls each queue, and which queue has nobody', async () => {
    const rows = await queueWorkers(env.client, env.namespace ?? 'default', { ...DefaultQueues, nobody: 'hala-gpu-nobody' });
    for (const queue of Object.values(DefaultQueues)) expect(rows.find((r) => r.queue === queue)?.pollers.length, queue).toBeGreaterThanOrEqual(1);
    expect(rows.find((r) => r.queue === 'hala-gpu-nobody')?.pollers).toEqual([]);
    expect(renderWorkers(rows)).toMatch(/\nno worker polls hala-gpu-nobody: work routed there waits until one starts/);
  });
});
