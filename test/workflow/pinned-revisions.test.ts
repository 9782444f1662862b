// Hub sources read online: each stage resolves every hf:// source to a commit when it opens, keys
// and records lineage on it, and its runners are handed the source pinned to exactly that commit.
import { createHash } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubFetch } from '../../activities/hub-revision-lookup';
import { campaignInput } from '../../cli/start-campaign';
import type { campaign } from '../../workflows/campaign';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { lineageOf } from '../../cli/lineage-source';

const commitOf = (url: string) => createHash('sha1').update(url).digest('hex');
/** What the stand-in was asked, in order. */
const asked: string[] = [];
/** A stand-in for the hub's revision API (the hub cannot be reached here): each repo's revision is a commit named after it. */
const hubFetch: HubFetch = async (url) => {
  asked.push(url);
  return { ok: true, status: 200, json: async () => ({ sha: commitOf(url) }) };
};

describe('hub sources pinned at stage open', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;

  beforeAll(async () => {
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { hubFetch, delayMs: 1 });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
  });

  it('hands every runner the commit the key and lineage name, a revision the recipe pins included', async () => {
    const { recipe } = harness;
    const pinnedDev = recipe.inputs.translation_dev.replace('/opus-100/', '/opus-100@v1/');
    const r = { ...recipe, inputs: { ...recipe.inputs, translation_dev: pinnedDev } };
    await env.client.workflow.execute<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: 'pinned', args: [campaignInput(r, harness.sha, { id: 'pinned' })] });

    const teacherAsk = asked.find((url) => url.endsWith('/api/models/hala-tiny/command-a-translate/revision/main'));
    expect(teacherAsk).toBeDefined();
    const teacherCommit = commitOf(teacherAsk!);
    const compress = harness.fakes.calls.find((c) => c.name === 'compress_teacher')!;
    expect(compress.input.model).toBe(`hf://hala-tiny/command-a-translate@${teacherCommit}`);
    // The recipe's own pin names a tag: it is honoured, handed over as the commit the tag resolved to.
    const devAsk = asked.find((url) => url.endsWith('/revision/v1'));
    expect(devAsk).toBeDefined();
    const dev = harness.fakes.calls.find((c) => c.name === 'prepareTranslationDev')!;
    expect(dev.input.dev).toBe(pinnedDev.replace('@v1/', `@${commitOf(devAsk!)}/`));
    const sft = harness.fakes.calls.filter((c) => c.name === 'train_sft').map((c) => (c.input.knobs as { base: string }).base);
    expect(sft.every((base) => /^hf:\/\/hala-tiny\/lfm2-[^/@]+@[0-9a-f]{40}$/.test(base))).toBe(true);

    const graph = await lineageOf('pinned', recipe.store.root);
    const teacher = graph.nodes.find((n) => n.kind === 'source' && n.uri === recipe.inputs.teacher);
    expect(teacher?.revision).toBe(teacherCommit);
  });
});
