// The Temporal UI tells the story: on the real dev server (with its own web UI), a campaign of
// recording stand-ins, read back through the real `temporal` CLI and headless Chromium. A finished
// sft stage's page names the student, what it did, what it produced (digests) and its parents
// (links); a running one shows its GPU activity's progress; one on an unserved queue says so.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveRefList } from '../../activities/ref-lists';
import { FileStore } from '../../activities/store';
import { startCampaign } from '../../cli/start-campaign';
import type { ActivityProgress } from '../../contracts/activity-progress';
import type { Recipe } from '../../contracts/recipe';
import { activityProgressSignal } from '../../workflows/definitions';
import type { translateCorpus } from '../../workflows/translate-corpus';
import { hubMirror, venvBin } from '../../platform/python-env';
import { launchChromium } from '../support/browser';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { freePort } from '../support/ports';
import { createLocalEnv } from '../support/temporal-env';
import { CODE_VERSION } from '../../contracts/version';

const run = promisify(execFile);

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 250))) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

describe('the Temporal UI tells the story', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let recipe: Recipe;
  let uiPort: number;
  let browser: Browser | undefined;
  // The student's training holds (after reporting progress) until the test has looked at it.
  let releaseTraining: () => void = () => undefined;
  const trainingReleased = new Promise<void>((resolve) => (releaseTraining = resolve));

  /** The real CLI against the dev server: `temporal workflow <verb> --workflow-id <id> ...`. */
  const temporalCli = async (verb: string, workflowId: string, ...extra: string[]) =>
    (await run(venvBin('temporal'), ['workflow', verb, '--workflow-id', workflowId, '--address', env.address, ...extra])).stdout;
  /** Static summary and details: `temporal workflow describe`; current details: `temporal workflow metadata` (the UI's query). */
  const staticOf = async (workflowId: string): Promise<{ summary: string; details: string; runId: string }> => {
    const described = JSON.parse(await temporalCli('describe', workflowId, '--output', 'json'));
    const { summary, details } = described.executionConfig.userMetadata;
    return { summary, details, runId: described.workflowExecutionInfo.execution.runId };
  };
  const currentDetailsOf = async (workflowId: string): Promise<string> => JSON.parse(await temporalCli('metadata', workflowId, '--output', 'json')).queryResult[0].currentDetails ?? '';

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    uiPort = await freePort();
    env = await createLocalEnv({ uiPort });
    harness = await startCampaignHarness(env, {
      gpu: (fakes) => ({
        // As the Python Heartbeater does: report progress to the stage workflow that scheduled it.
        train_sft: async (input) => {
          const { info, client } = Context.current();
          const stage = info.workflowExecution?.workflowId ?? '';
          if (stage.endsWith('/sft-hala-350m')) {
            const progress: ActivityProgress = {
              activity: 'train_sft',
              activity_id: info.activityId,
              attempt: info.attempt,
              phase: 'train',
              done: 120,
              total: 600,
              rate: 2,
              eta_s: 240,
              checkpoint_uri: 'file:///store/sft/checkpoint-100',
              metrics: { loss: 0.8123, learning_rate: 0.0019 },
              elapsed_s: 60,
            };
            await client.workflow.getHandle(stage).signal(activityProgressSignal, progress);
            await trainingReleased;
          }
          return fakes.train_sft(input);
        },
      }),
    });
    recipe = harness.recipe;
  }, 120_000);

  afterAll(async () => {
    releaseTraining();
    await browser?.close();
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  it('a running stage shows its progress, a finished sft stage names the student, what it produced and its parents', async () => {
    const id = 'story-tiny';
    const handle = await startCampaign(env.client, { ...recipe, seed: 21 }, harness.sha, { id });
    const sft = `${id}/sft-hala-350m`;

    const running = await until('the progress of sft-hala-350m', async () => {
      const details = await currentDetailsOf(sft);
      return details.includes('120/600') ? details : undefined;
    });
    expect(running).toMatch(/^\*\*Now:\*\* running train_sft \(stage started \d\d:\d\d:\d\d UTC\)/);
    expect(running).toMatch(/train_sft \(attempt 1, 1 min in\) train: 120\/600 \(20%\) · loss 0\.8123 · 2\/s · ETA 4 min · last checkpoint `file:\/\/\/store\/sft\/checkpoint-100` · learning_rate 0\.0019$/m);
    expect(running).toContain('learning_rate 0.0019');
    // The activity the UI lists for it says what it is for.
    const history = await env.client.workflow.getHandle(sft).fetchHistory();
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'train_sft');
    expect(scheduled?.userMetadata?.summary).toBeDefined();
    const summaryPayload = scheduled!.userMetadata!.summary!;
    expect(JSON.parse(Buffer.from(summaryPayload.data!).toString())).toBe('train_sft for sft-hala-350m');
    const opened = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openStage');
    expect(JSON.parse(Buffer.from(opened!.userMetadata!.summary!.data!).toString())).toBe('openStage for sft-hala-350m');
    // The campaign's own page: the recipe, its students, a link to each stage.
    const campaignPage = await staticOf(id);
    expect(campaignPage.summary).toBe('campaign tiny — 18 stages for students hala-1-2b, hala-700m, hala-350m');
    expect(campaignPage.details).toContain(`- [sft-hala-350m](/namespaces/default/workflows/${id}%2Fsft-hala-350m)`);

    // The same, live, on the stage's page in the dev server's web UI (headless Chromium).
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1500 } });
    // The UI renders each markdown block in a frame of its own: read the page and all its frames.
    const pageText = async () => (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n');
    const userMetadata = async (workflowId: string, runId = '') => {
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}/history` : ''}`);
      await page.getByText(workflowId).first().waitFor({ timeout: 30_000 });
      // The UI's own tab for summary, details and current details (its __temporal_workflow_metadata query).
      await page.getByText('User Metadata', { exact: true }).first().click();
    };
    await userMetadata(sft);
    // The UI's markdown typesets 120/600 with a fraction slash.
    await until('the live progress on the page', async () => (/train: 120\D600 \(20%\) · loss 0\.8123 · 2\/s · ETA 4 min/.test(await pageText()) ? true : undefined), 30_000);
    const live = path.join(tmpdir(), 'hala-ui-sft-running.png');
    await page.screenshot({ path: live, fullPage: true });
    console.log(`screenshot of the running sft stage page: ${live}`);

    releaseTraining();
    await handle.result();

    const described = await staticOf(sft);
    expect(described.summary).toBe('sft hala-350m — lfm2-350m on the translated instructions, lr 4e-3, 8 epochs');
    expect(described.details).toContain('- student: hala-350m\n- base: hf://hala-tiny/lfm2-350m\n- learning rate: 4e-3\n- epochs: 8');
    expect(described.details).toContain(`**Reads from**\n\n- \``);
    expect(described.details).toContain(`from [translate-instructions](/namespaces/default/workflows/${id}%2Ftranslate-instructions)`);
    const done = await currentDetailsOf(sft);
    // What it produced, with its digest, from the store's own manifest.
    const model = (await handle.result()).progress.stages.find((s) => s.stage === 'sft-hala-350m')!.artifacts[0]!;
    expect(done).toMatch(/^\*\*Done\*\* in \d+ s · stage key `[0-9a-f]{64}`/);
    expect(done).toContain(`\`${model.uri}\` (model) sha256 \`${model.sha256}\``);
    expect(done).toContain('**Metrics:** steps 10 · final_loss 0.5');
    // What it was made from: the translated corpus, linked to the stage that made it, and the raw base model.
    expect(done).toContain(`from [translate-instructions](/namespaces/default/workflows/${id}%2Ftranslate-instructions)`);
    expect(done).toMatch(/`hf:\/\/hala-tiny\/lfm2-350m` \(raw source[^)]*\) sha256 `[0-9a-f]{64}`/);

    // Fan-outs: their own summary, and their shards named in their activities.
    const fanOutId = `${id}/translate-instructions/translate-open-orca`;
    expect((await staticOf(fanOutId)).summary).toBe('translate 3 shards of open-orca with model for translate-instructions');
    expect(await currentDetailsOf(fanOutId)).toContain('**Translated:** 3/3 shards · 30 rows translated');

    // The finished stage's page.
    await userMetadata(sft, described.runId);
    const body = await until('the current details on the page', async () => ((await pageText()).includes('Made from') ? pageText() : undefined), 30_000);
    expect(body).toContain('hala-350m');
    expect(body).toContain('lfm2-350m on the translated instructions');
    expect(body).toContain('translate-instructions');
    expect(body).toMatch(/Produced\s+file:\/\/\S+\/sft-hala-350m\/\S+\/model \(model\) sha256 [0-9a-f]{64}/);
    const shot = path.join(tmpdir(), 'hala-ui-sft-stage.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot of the sft stage page: ${shot}`);
    // The lineage links lead to the parent stage's own page.
    await userMetadata(`${id}/translate-instructions`);
    const summary = 'translate-instructions — the translator turns open-orca, hermes-3 into Arabic';
    await until('the parent stage page', async () => ((await pageText()).includes(summary) ? true : undefined), 30_000);
  }, 240_000);

  it('a stage whose queue nobody serves says so instead of waiting silently', async () => {
    const id = 'story-unserved';
    const unserved = { ...recipe, seed: 22, queues: { ...recipe.queues, quantize: 'hala-gpu-nobody' }, timeouts: { ...recipe.timeouts, no_worker_s: 2 } };
    const handle = await startCampaign(env.client, unserved, harness.sha, { id, useCache: false });
    const details = await until('the no-worker line', async () => {
      const d = await currentDetailsOf(`${id}/compress-teacher`);
      return d.includes('no worker on') ? d : undefined;
    }, 60_000);
    expect(details).toMatch(/\*\*no worker on hala-gpu-nobody for \d+ s\*\*: compress_teacher waits until one polls it/);
    // The other branch's stage, on served queues, never says it.
    expect(await currentDetailsOf(`${id}/filter-opus`)).not.toContain('no worker');
    await handle.cancel();
    // Cancelled cleanly: the stage ends cancelled, its workflow task never failing on the watch.
    await expect(handle.result()).rejects.toThrow();
    expect((await env.client.workflow.getHandle(`${id}/compress-teacher`).describe()).status.name).toBe('CANCELLED');
  }, 120_000);

  it('a fan-out whose queue nobody serves says so, with its shards still to do', async () => {
    const store = new FileStore(`file://${harness.storeDir}`);
    const shards = [0, 1].map((i) => ({ uri: `file:///s/${i}.parquet`, sha256: 'a'.repeat(64), kind: 'dataset' as const, bytes: 1 }));
    const { prompt_template: _prompt, ...generation } = recipe.generation.translator;
    const id = 'story-fan-out-unserved';
    const handle = await env.client.workflow.start<typeof translateCorpus>('translateCorpus', {
      taskQueue: recipe.queues.cpu,
      workflowId: id,
      args: [
        {
          runtime: {
            campaign_id: 'story', store_root: store.rootUri, code_version: CODE_VERSION, forced: false,
            queues: { ...recipe.queues, infer: 'hala-gpu-nobody-infer' }, timeouts: { ...recipe.timeouts, no_worker_s: 2 }, retries: recipe.retries, fan_out: recipe.fan_out, priority: {},
          },
          stage_key: 'b'.repeat(64), output_prefix: `${store.rootUri}/unserved`, model: 'hf://x/y',
          shard_list: await saveRefList(store, `${store.rootUri}/unserved.json`, shards), shard_count: shards.length, generation, prompt_template: 'T {text}',
        },
      ],
    });
    const details = await until('the fan-out\'s no-worker line', async () => {
      const d = await currentDetailsOf(id);
      return d.includes('no worker on') ? d : undefined;
    });
    expect(details).toMatch(/^\*\*Translating:\*\* 0\/2 shards · 0 rows translated · 2 in flight/);
    expect(details).toMatch(/\*\*no worker on hala-gpu-nobody-infer for \d+ s\*\*: shards wait until one polls it/);
    await handle.terminate('test over');
  }, 120_000);
});
