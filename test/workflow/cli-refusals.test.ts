// What `hala` says, and with which exit code, when the operator asks for something the server refuses:
// a campaign id already running, a campaign that does not exist, a namespace that does not exist. On
// the real dev server, through the real CLI in a process of its own, as an operator types it. No
// worker polls here: a started campaign stays running, which is all these refusals need.
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../cli/recipe-file';
import { startCampaign } from '../../cli/start-campaign';
import { hubMirror } from '../../platform/python-env';
import { runHala } from '../support/hala-cli';
import { createLocalEnv } from '../support/temporal-env';

const tinyFile = path.join(__dirname, '../../recipes/tiny.yaml');

describe('hala refusals from the server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
  }, 120_000);

  afterAll(async () => {
    await env?.teardown();
  });

  const hala = (...args: string[]) => runHala(env.address, ...args);

  it('hala run --id of a running campaign exits 2, saying how to watch it and how to start another', async () => {
    const loaded = loadRecipe(tinyFile);
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const id = 'refusals-running';
    await startCampaign(env.client, loaded.recipe, loaded.sha256, { id });
    const run = await hala('run', tinyFile, '--id', id);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`hala run: campaign ${id} is already running in namespace default`);
    expect(run.stderr).toContain(`hala watch ${id}`);
    expect(run.stderr).toContain(`hala status ${id}`);
    expect(run.stderr).toContain('--id with another id');
    expect(run.stderr).not.toContain('Workflow execution already started');
    await env.client.workflow.getHandle(id).terminate('test over');
  });

  it('hala status of an unknown campaign exits 2, naming the id and how to list campaigns', async () => {
    const status = await hala('status', 'no-such-campaign');
    expect(status.code, status.stderr).toBe(2);
    expect(status.stderr).toContain('hala status: no campaign no-such-campaign in namespace default');
    expect(status.stderr).toContain('hala ls');
  });

  it('a namespace that does not exist exits 2, naming the server and how to create it', async () => {
    // Each verb meets it in its own call (list, query, describe, start): all say the same.
    for (const verb of [['ls'], ['status', 'any-id'], ['watch', 'any-id'], ['cancel', 'any-id'], ['run', tinyFile]]) {
      const r = await hala('--namespace', 'no-such-ns', ...verb);
      expect(r.code, `${verb.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`namespace no-such-ns does not exist on ${env.address}`);
      expect(r.stderr).toContain('temporal operator namespace create --namespace no-such-ns');
      expect(r.stderr).toContain('Temporal Cloud');
    }
  });
});
