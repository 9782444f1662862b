// Usage: npx tsx scripts/record-histories.ts
// Records the histories of a tiny campaign (campaign, every stage workflow, the translation
// fan-outs) into test/histories/. test/workflow/replay.test.ts replays them against the current
// workflow code: a change that alters command order fails there and must go behind patched().
// Each recording adds files (named by run id) next to the older ones, so histories of every version
// of the release (contracts/version.ts) keep replaying. A new release (a minor bump) starts afresh:
// its workflows refuse older releases' histories (workflows/release-guard.ts), so theirs are
// deleted, keeping one campaign and one stage in test/histories-of-older-releases to show that.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { venvBin } from '../platform/python-env';
import { campaignInput } from '../cli/start-campaign';
import { createLocalEnv } from '../test/support/temporal-env';
import { startCampaignHarness } from '../test/support/campaign-harness';
import type { campaign } from '../workflows/campaign';

async function main() {
  const env = await createLocalEnv();
  const harness = await startCampaignHarness(env, { delayMs: 5 });
  try {
    const id = 'history-tiny';
    const input = campaignInput(harness.recipe, harness.sha, { id });
    await env.client.workflow.execute<typeof campaign>('campaign', { taskQueue: harness.recipe.queues.cpu, workflowId: id, args: [input] });
    const dir = path.join(__dirname, '../test/histories');
    mkdirSync(dir, { recursive: true });
    const executions: WorkflowExecutionInfo[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId STARTS_WITH "${id}"` })) executions.push(wf);
    for (const wf of executions) {
      // The CLI's proto3 JSON is the format historyFromJSON() reads back.
      const json = execFileSync(venvBin('temporal'), ['workflow', 'show', '--address', env.address, '-w', wf.workflowId, '-r', wf.runId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const file = `${wf.workflowId.replace(/[^a-zA-Z0-9-]+/g, '_')}-${wf.runId.slice(0, 8)}.json`;
      // Child workflow ids derive from the parent's id: replay needs the real one, so it is saved too.
      writeFileSync(path.join(dir, file), JSON.stringify({ workflowId: wf.workflowId, history: JSON.parse(json) }));
      console.log(`recorded ${wf.type} ${wf.workflowId} -> test/histories/${file}`);
    }
  } finally {
    await harness.stop();
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
