// `hala setup`, then a campaign, against a cluster that is not the local stack's: a real dev server
// started WITHOUT the search attributes, in a non-default namespace, and every process — the CLI, the
// CPU worker, a Python worker, this test's client — connected through one profile file.
// The campaign is followed until filter-opus has completed on the CPU worker and compress-teacher is
// running on the Python quantize worker, then terminated: compressing and checking the teacher alone
// takes minutes on 2 shared cores, and the rest of the tiny campaign needs every GPU queue;
// README "Connecting to a cluster" gives the command that runs the whole of it this way.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignProgress } from '../../contracts/campaign';
import { DefaultQueues } from '../../contracts/queues';
import { HalaCampaign, halaSearchAttributes } from '../../contracts/search-attributes';
import { progressQuery } from '../../workflows/definitions';
import { startDevServer, stopGroup, type RunningDevServer } from '../../workers/dev-server';
import { hubMirror, repoRoot } from '../../platform/python-env';
import { pythonWorkerEnv, startPythonWorker } from '../../workers/python-workers';
import { connectClient, envForProfileFile, resolveConnection } from '../../platform/temporal-connection';
import { startWorkerProcess } from '../../workers/worker-process';
import { freePort } from '../support/ports';

const minutes = 60_000;
const NAMESPACE = 'hala-e2e-setup';
const PROFILE = 'hala-e2e';
const CAMPAIGN = 'setup-e2e-tiny';
const names = halaSearchAttributes.map((k) => k.name);
const { PENDING_ACTIVITY_STATE_STARTED } = temporal.api.enums.v1.PendingActivityState;

const stateDir = mkdtempSync(path.join(tmpdir(), 'hala-setup-e2e-'));
const profileFile = path.join(stateDir, 'temporal.toml');
let server: RunningDevServer;
/** The test's own environment: the profile file and nothing else says where Temporal is. */
let env: NodeJS.ProcessEnv;
const workers: ChildProcess[] = [];
let client: Client | undefined;
let keepLogs = false;

interface Run { code: number; stdout: string; stderr: string }
/** `hala <args>` in a process of its own, as a user runs it. */
async function hala(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'cli/hala.ts'), ...args], { env, cwd: repoRoot, timeout: 2 * minutes });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  // A dev server of its own, registering nothing: setup must be what makes it usable.
  server = await startDevServer({ port: await freePort(), uiPort: await freePort(), logFile: path.join(stateDir, 'logs/temporal.log'), namespaces: [NAMESPACE] });
  // The default profile points nowhere: only the profile named by --profile / TEMPORAL_PROFILE works.
  writeFileSync(profileFile, `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.${PROFILE}]\naddress = "${server.address}"\nnamespace = "${NAMESPACE}"\n`);
  env = envForProfileFile(process.env, profileFile);
}, 2 * minutes);

afterEach((context) => {
  if (context.task.result?.state === 'fail') keepLogs = true;
});

afterAll(async () => {
  await client?.workflow.getHandle(CAMPAIGN).terminate('test over').catch(() => undefined);
  await Promise.all(workers.map((w) => stopGroup(w)));
  await server?.stop();
  if (keepLogs) console.error(`setup e2e: logs kept in ${stateDir}/logs`);
  else rmSync(stateDir, { recursive: true, force: true });
}, 2 * minutes);

describe('hala setup on a dev server without the search attributes, connected by a profile file', () => {
  it('adds every search attribute the first time', async () => {
    const run = await hala('setup', '--profile', PROFILE);
    console.log(run.stdout);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${server.address} namespace ${NAMESPACE} (from profile '${PROFILE}' of ${profileFile})`);
    for (const name of names) expect(run.stdout).toMatch(new RegExp(`search attribute ${name} +Keyword +added`));
    client = await connectClient(resolveConnection({ profile: PROFILE }, env));
    const listed = await client.connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    expect(Object.keys(listed.customAttributes ?? {}).sort()).toEqual([...names].sort());
  });

  it('finds them all present the second time and changes nothing', async () => {
    const run = await hala('setup', '--profile', PROFILE);
    console.log(run.stdout);
    expect(run.code).toBe(0);
    for (const name of names) expect(run.stdout).toMatch(new RegExp(`search attribute ${name} +Keyword +already present`));
    expect(run.stdout).toContain('nothing to change');
  });

  it('says that a namespace does not exist and how to create it', async () => {
    const run = await hala('setup', '--profile', PROFILE, '--namespace', 'hala-nowhere');
    console.log(run.stderr);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`namespace hala-nowhere does not exist on ${server.address}`);
    expect(run.stderr).toContain('temporal operator namespace create --namespace hala-nowhere');
  });

  it('then runs a campaign in that namespace: the CLI starts it, the CPU and Python workers serve it, search attributes set', async () => {
    expect(client, 'the first setup connected').toBeDefined();
    const logDir = path.join(stateDir, 'logs');
    // Workers are told the profile only; they stop themselves if this test process is killed.
    const workerEnv = { ...env, TEMPORAL_PROFILE: PROFILE, HALA_LAUNCHER_PID: String(process.pid), HALA_HUB_MIRROR: hubMirror(), HALA_WORK_DIR: path.join(stateDir, 'work') };
    const storeRoot = `file://${path.join(stateDir, 'store')}`;
    const [cpu, quantize] = await Promise.all([
      startWorkerProcess({ label: 'cpu worker', command: process.execPath, args: ['--import', 'tsx', path.join(repoRoot, 'workers/cpu-worker.ts'), '--store', storeRoot], env: workerEnv, logDir, logName: 'worker-cpu.log' }),
      startPythonWorker('quantize', DefaultQueues.quantize, logDir, pythonWorkerEnv({}, workerEnv)).then((w) => w.process),
    ]);
    workers.push(cpu, quantize);

    const recipeFile = path.join(stateDir, 'tiny.yaml');
    const tiny = readFileSync(path.join(repoRoot, 'recipes/tiny.yaml'), 'utf8');
    writeFileSync(recipeFile, tiny.replace('store: { root: file://.hala/store }', `store: { root: ${storeRoot} }`));
    expect(readFileSync(recipeFile, 'utf8')).toContain(storeRoot);
    const started = await hala('run', recipeFile, '--id', CAMPAIGN, '--profile', PROFILE);
    console.log(started.stdout + started.stderr);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`started campaign ${CAMPAIGN} in namespace ${NAMESPACE}`);

    const handle = client!.workflow.getHandle(CAMPAIGN);
    const compress = client!.workflow.getHandle(`${CAMPAIGN}/compress-teacher`);
    let progress: CampaignProgress | undefined;
    let compressWorker: string | undefined;
    const filterOpus = () => progress?.stages.find((s) => s.stage === 'filter-opus');
    for (const deadline = Date.now() + 5 * minutes; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1000))) {
      progress = await handle.query(progressQuery);
      const pending = await compress.describe().then((d) => d.raw.pendingActivities ?? [], () => []);
      // Started = a worker of the quantize queue has it; only the Python worker polls that queue.
      compressWorker = pending.find((a) => a.activityType?.name === 'compress_teacher' && a.state === PENDING_ACTIVITY_STATE_STARTED)?.lastWorkerIdentity ?? compressWorker;
      if (progress.state === 'failed' || (filterOpus()?.status === 'completed' && compressWorker)) break;
    }
    console.log(`setup e2e: filter-opus ${filterOpus()?.status}; compress_teacher started by worker ${compressWorker} (the Python worker is pid ${quantize.pid})`);
    expect(filterOpus()?.status).toBe('completed');
    expect(compressWorker).toMatch(new RegExp(`^${quantize.pid}@`));

    // The search attributes setup registered are set and queryable in the namespace (visibility is
    // eventually consistent: a moment may pass before the list shows them).
    expect((await handle.describe()).typedSearchAttributes.get(HalaCampaign)).toBe(CAMPAIGN);
    const query = `HalaCampaign = "${CAMPAIGN}" AND HalaStage IN ("compress-teacher", "filter-opus")`;
    let found: string[] = [];
    for (const deadline = Date.now() + 30_000; found.length < 2 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      found = [];
      for await (const wf of client!.workflow.list({ query })) found.push(wf.workflowId);
    }
    expect(found.sort()).toEqual([`${CAMPAIGN}/compress-teacher`, `${CAMPAIGN}/filter-opus`]);
    // …and only there: the default namespace of the same server never saw the campaign.
    const elsewhere = await connectClient(resolveConnection({ address: server.address, namespace: 'default' }, {}));
    await expect(elsewhere.workflow.getHandle(CAMPAIGN).describe()).rejects.toThrow(/not found/i);
  }, 8 * minutes);
});
