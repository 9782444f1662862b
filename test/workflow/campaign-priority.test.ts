// A campaign started as `hala run` starts it carries its recipe's scheduling as Temporal Priority,
// set explicitly at every level: the campaign, each stage's child workflow, the fan-outs and every
// activity scheduled; the critical path's stages one key higher. Read back from the server.
import { rmSync } from 'node:fs';
import type { Priority } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../cli/start-campaign';
import { hubMirror } from '../../platform/python-env';
import { fanOutWorkflowId } from '../../workflows/fan-out-ids';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';

const compact = (p: temporal.api.common.v1.IPriority | null | undefined): Priority => ({ priorityKey: p?.priorityKey ?? 0, fairnessKey: p?.fairnessKey ?? '', fairnessWeight: p?.fairnessWeight ?? 0 });

describe('campaign priority', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env, { delayMs: 1 });
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  it("sets the recipe's priority on the campaign, its stages and their activities; critical-path stages one key higher", async () => {
    const recipe = { ...harness.recipe, scheduling: { priority: 4, fairness_key: 'nlp-team', fairness_weight: 2 } };
    const critical = ['compress-teacher', 'build-bilingual-corpus', 'train-translator', 'translate-instructions'];
    const handle = await startCampaign(env.client, recipe, harness.sha, { id: 'prio', criticalPath: critical });
    await handle.result();
    const base = { fairnessKey: 'nlp-team', fairnessWeight: 2 };
    const priorityOf = async (id: string) => compact((await env.client.workflow.getHandle(id).describe()).raw.workflowExecutionInfo?.priority);
    expect(await priorityOf('prio')).toEqual({ priorityKey: 4, ...base });
    // The campaign's own commands carry it too: its report activity and each stage's start (what
    // describe shows of a child would look the same if merely inherited; the command would not).
    const own = (await handle.fetchHistory()).events ?? [];
    const children = own.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).filter((a) => a);
    expect(children.length).toBe(18);
    for (const c of children) expect(compact(c!.priority), c!.workflowId!).toEqual({ priorityKey: critical.includes(c!.workflowId!.slice('prio/'.length)) ? 3 : 4, ...base });
    for (const a of own.map((e) => e.activityTaskScheduledEventAttributes).filter((x) => x)) expect(compact(a!.priority)).toEqual({ priorityKey: 4, ...base });
    for (const stage of ['compress-teacher', 'filter-opus', 'translate-instructions', 'evaluate-translator']) {
      const key = critical.includes(stage) ? 3 : 4;
      expect(await priorityOf(`prio/${stage}`), stage).toEqual({ priorityKey: key, ...base });
      // Every activity the stage scheduled says so itself, not by the server's inheritance.
      const history = await env.client.workflow.getHandle(`prio/${stage}`).fetchHistory();
      const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a);
      expect(scheduled.length, stage).toBeGreaterThan(0);
      for (const a of scheduled) expect(compact(a!.priority), `${stage} ${a!.activityType?.name}`).toEqual({ priorityKey: key, ...base });
    }
    // The fan-out of a critical-path stage: its workflow and its shards.
    const fanOuts = recipe.inputs.instruction_sets.map((set) => fanOutWorkflowId('prio/translate-instructions', set.name));
    for (const id of fanOuts) {
      expect(await priorityOf(id), id).toEqual({ priorityKey: 3, ...base });
      const shards = ((await env.client.workflow.getHandle(id).fetchHistory()).events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a);
      expect(shards.length, id).toBeGreaterThan(0);
      for (const a of shards) expect(compact(a!.priority), `${id} ${a!.activityType?.name}`).toEqual({ priorityKey: 3, ...base });
    }
  }, 180_000);
});
