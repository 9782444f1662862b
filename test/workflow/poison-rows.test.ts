// Rows that fail alone, through a whole campaign: a teacher shard whose engine raises on one row
// quarantines it and completes; build-bilingual-corpus completes under generation.teacher.max_error_rate
// and shows the count, and fails TooManyFailedRows (naming the rate) at max_error_rate 0.
import { rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recipe } from '../../contracts/recipe';
import { campaignInput } from '../../cli/start-campaign';
import { progressQuery } from '../../workflows/definitions';
import type { campaign } from '../../workflows/campaign';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { hubMirror } from '../../platform/python-env';

describe('rows that fail alone in a campaign', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  /** Where build-bilingual-corpus wrote in the first campaign (max_error_rate 0.05): its key names the prefix. */
  let underPrefix: string | undefined;
  const stagePrefix = (uri: string) => /\/stages\/build-bilingual-corpus\/[^/]+\//.exec(uri)?.[0];

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    // The second of the teacher's three fake shards (10 rows each) holds one row its engine raises on.
    harness = await startCampaignHarness(env, {
      poison: (input) => (/\/stages\/build-bilingual-corpus\/.*\/shard-00001$/.test(String(input.output_prefix)) ? 1 : 0),
    });
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const withRate = (max_error_rate: number): Recipe => {
    const r = harness.recipe;
    return { ...r, generation: { ...r.generation, teacher: { ...r.generation.teacher, max_error_rate } } };
  };
  const start = (id: string, r: Recipe) =>
    env.client.workflow.start<typeof campaign>('campaign', { taskQueue: r.queues.cpu, workflowId: id, args: [campaignInput(r, harness.sha, { id })] });

  it('quarantines the row, completes the stage under the bound and shows teacher_quarantined_rows', async () => {
    const done = await (await start('poison-under', withRate(0.05))).result(); // 1 of 30 rows: 0.033
    const stage = done.progress.stages.find((s) => s.stage === 'build-bilingual-corpus')!;
    expect(stage.status).toBe('completed');
    underPrefix = stagePrefix(stage.artifacts[0]!.uri);
    expect(stage.metrics).toMatchObject({ teacher_quarantined_rows: 1, teacher_segments: 30 });
    expect(stage.artifacts.map((a) => a.uri)).toContainEqual(expect.stringMatching(/build-bilingual-corpus\/.*\/shard-00001\/quarantine\.parquet$/));
  });

  it('fails the stage TooManyFailedRows at max_error_rate 0, naming the rate, the bound and the rows', async () => {
    const handle = await start('poison-zero', withRate(0));
    const failure = await handle.result().then(() => undefined, (e: unknown) => e as Error);
    expect(String((failure?.cause as Error | undefined)?.message)).toContain('build-bilingual-corpus (TooManyFailedRows: 1 of 30 rows failed alone');
    const stage = (await handle.query(progressQuery)).stages.find((s) => s.stage === 'build-bilingual-corpus')!;
    expect(stage).toMatchObject({ status: 'failed', error_type: 'TooManyFailedRows' });
    // max_error_rate is in the stage's slice, so in its key: the stage ran again instead of being taken from the cache.
    expect(underPrefix).toBeDefined();
    expect(stagePrefix(stage.error ?? '')).toBeDefined();
    expect(stagePrefix(stage.error ?? '')).not.toBe(underPrefix);
    expect(stage.error).toContain('error rate 0.0333');
    expect(stage.error).toContain('over generation.teacher.max_error_rate 0.');
    expect(stage.error).toMatch(/shard-00001\/quarantine\.parquet/);
    // Nothing downstream of the corpus ran on it.
    expect((await handle.query(progressQuery)).stages.find((s) => s.stage === 'train-translator')).toMatchObject({ status: 'pending' });
  });
});
