// Approval gates on the real dev server: a recipe declaring `corpus-review` before sft runs up to the
// gate and waits with its funnel and sample rows (sampled by the real previewGate activity from the
// corpus SFT will read); the `approve` update's validator refuses bad approvals without disturbing the
// campaign; an accepted one, sent the way `hala approve` sends it, releases SFT and is recorded in the
// lineage of the SFT models. GPU and data-plane activities are the recording stand-ins.
import { readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewDigest } from '../../activities/gate-preview';
import { ApprovalRefused, approveGate, renderApproval } from '../../cli/approve';
import { toDot, toMermaid, toText, walkLineage } from '../../cli/lineage';
import { startCampaign } from '../../cli/start-campaign';
import { cancelCampaign } from '../../cli/steer';
import { renderSummary } from '../../cli/summary';
import type { CampaignProgress } from '../../contracts/campaign';
import { Gate } from '../../contracts/gates';
import { LineageRecord } from '../../contracts/lineage';
import type { Recipe } from '../../contracts/recipe';
import { progressQuery } from '../../workflows/definitions';
import type { campaign } from '../../workflows/campaign';
import { hubMirror } from '../../platform/python-env';
import { startCampaignHarness, type CampaignHarness } from '../support/campaign-harness';
import { createLocalEnv } from '../support/temporal-env';
import { until } from '../support/until';
import { runHala } from '../support/hala-cli';

describe('approval gates', () => {
  let env: TestWorkflowEnvironment;
  let harness: CampaignHarness;
  let gated: Recipe;

  beforeAll(async () => {
    process.env.HALA_HUB_MIRROR ||= hubMirror();
    env = await createLocalEnv();
    harness = await startCampaignHarness(env);
    gated = { ...harness.recipe, gates: [Gate.parse({ name: 'corpus-review', before: 'sft', show: { samples: 5 } })] };
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    if (harness?.storeDir) rmSync(harness.storeDir, { recursive: true, force: true });
  });

  const hala = (...args: string[]) => runHala(env.address, ...args);
  const progress = (h: WorkflowHandle<typeof campaign>): Promise<CampaignProgress> => h.query(progressQuery);
  // train_sft serves the translator too: the students' calls write below their sft stages' prefixes.
  const sftCalls = () => harness.fakes.calls.filter((c) => c.name === 'train_sft' && String(c.input.output_prefix).includes('/stages/sft-'));
  const waiting = async (h: WorkflowHandle<typeof campaign>) => (await progress(h)).gates?.[0]?.state === 'waiting';

  it('holds every sft stage at the gate, shows the funnel and sample rows, and releases them on approve', async () => {
    const id = 'gate-held';
    const handle = await startCampaign(env.client, gated, harness.sha, { id });
    // Not reached yet: an approval now would approve a preview nobody has seen.
    await expect(approveGate(env.client, id, 'corpus-review', { by: 'alice' })).rejects.toThrow(
      new ApprovalRefused(`gate corpus-review is not reached yet: it waits before sft with its preview, approve it then (hala status ${id} says when)`),
    );
    await until('the gate to wait', () => waiting(handle));
    // Give the campaign time to start anything it (wrongly) would: nothing of sft may start.
    await new Promise((r) => setTimeout(r, 1500));
    const held = await progress(handle);
    expect(held.state).toBe('running');
    expect(held.stages.filter((s) => s.kind === 'sft').map((s) => s.status)).toEqual(['pending', 'pending', 'pending']);
    expect(held.stages.filter((s) => s.kind === 'merge' || s.kind === 'evaluate').every((s) => s.status === 'pending')).toBe(true);
    expect(sftCalls()).toEqual([]);
    expect(held.stages.find((s) => s.kind === 'translate-instructions')?.status).toBe('completed');

    // The preview: the corpus stages' figures, and 5 real rows of the corpus the students will read.
    const gate = held.gates![0]!;
    const preview = gate.preview!;
    expect(preview.funnel.map((f) => f.stage)).toEqual(['filter-opus', 'build-bilingual-corpus', 'translate-instructions']);
    expect(preview.funnel[0]!.metrics).toMatchObject({ read: 10, kept: 8 });
    expect(preview.funnel[2]!.metrics).toMatchObject({ conversations: 20 });
    const corpus = held.stages.find((s) => s.kind === 'translate-instructions')!.artifacts[0]!;
    expect(preview.samples.map((s) => s.dataset.sha256)).toEqual([corpus.sha256]);
    const rows = preview.samples[0]!.rows;
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.id)).size).toBe(5);
    for (const r of rows) expect(r.messages).toEqual([{ role: 'user', content: expect.stringMatching(/^question \d+$/) }, { role: 'assistant', content: expect.stringMatching(/^جواب \d+$/) }]);
    const { sha256, ...shown } = preview;
    expect(sha256).toBe(previewDigest(shown));

    const status = renderSummary(held, 'http://ui');
    expect(status).toContain(`waiting at gate corpus-review before sft: hala approve ${id} corpus-review`);
    expect(status).toMatch(/\n {4}filter-opus: read=10 kept=8 /);
    expect(status).toContain('    translate-instructions: conversations=20');
    expect(status).toContain(`  5 sample rows of ${corpus.uri} (sha256:${corpus.sha256.slice(0, 12)}, 20 rows):`);
    expect(status.match(/\n {4}c\d+ {2}user: question \d+ \| assistant: جواب \d+/g)).toHaveLength(5);
    // The campaign's page in the Temporal UI says it too (its current details, the UI's metadata query).
    const metadata = await env.client.workflow.getHandle(id).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toBe(`**Waiting at gate corpus-review** before sft: \`npx hala status ${id}\` shows its funnel and sample rows, \`npx hala approve ${id} corpus-review\` lets it go on.`);

    // Refused approvals say why and change nothing.
    await expect(approveGate(env.client, id, 'corpus-reveiw', { by: 'alice' })).rejects.toThrow(
      new ApprovalRefused(`no gate "corpus-reveiw" in campaign ${id} (declared: corpus-review)`),
    );
    await expect(approveGate(env.client, id, 'corpus-review', { by: '  ' })).rejects.toThrow(new ApprovalRefused('an approval names its approver: pass --by <name> (got "  ")'));
    expect((await progress(handle)).gates![0]!.state).toBe('waiting');
    expect(sftCalls()).toEqual([]);

    const before = Date.now();
    const result = await approveGate(env.client, id, 'corpus-review', { by: 'alice', note: 'samples read fine' });
    expect(result.approval).toMatchObject({ gate: 'corpus-review', by: 'alice', note: 'samples read fine', preview_sha256: preview.sha256 });
    expect(result.preview).toEqual(preview);
    expect(renderApproval(id, result)).toMatch(new RegExp(`^approved gate corpus-review of ${id} as alice at \\S+ \\(samples read fine\\): sft goes on\\npreview sha256:${preview.sha256}\\n  funnel:`));
    await expect(approveGate(env.client, id, 'corpus-review', { by: 'bob' })).rejects.toThrow(
      new ApprovalRefused(`gate corpus-review was already approved by alice at ${result.approval.at}`),
    );

    const done = await handle.result();
    expect(done.progress.state).toBe('completed');
    await expect(approveGate(env.client, id, 'corpus-review', { by: 'bob' })).rejects.toThrow(
      new ApprovalRefused(`campaign ${id} is completed: only a running campaign waits at a gate`),
    );
    expect(done.progress.gates).toEqual([{ name: 'corpus-review', before: 'sft', state: 'approved', preview, approval: result.approval }]);
    const trained = sftCalls();
    expect(trained).toHaveLength(3);
    for (const c of trained) expect(c.start).toBeGreaterThanOrEqual(before);
    expect(renderSummary(done.progress, 'http://ui')).toContain(`gate corpus-review before sft: approved by alice at ${result.approval.at} (samples read fine)`);

    // Recorded in lineage: every SFT model's record, and through it `hala lineage` in each format; not the models that came before.
    const load = async (sha: string) => {
      try {
        return LineageRecord.parse(JSON.parse(readFileSync(path.join(harness.storeDir, 'lineage', `${sha}.json`), 'utf8')));
      } catch {
        return undefined;
      }
    };
    const sft = done.progress.stages.filter((s) => s.kind === 'sft');
    for (const s of sft) {
      expect((await load(s.artifacts[0]!.sha256))?.approvals).toEqual([result.approval]);
      const manifest = JSON.parse(readFileSync(path.join(harness.storeDir, 'cache', `${s.stage_key}.json`), 'utf8')) as { approvals?: unknown };
      expect(manifest.approvals).toEqual([result.approval]);
    }
    const finals = done.progress.stages.filter((s) => s.kind === 'evaluate').flatMap((s) => s.artifacts.map((a) => a.sha256));
    const graph = await walkLineage(finals, load);
    const approved = graph.nodes.filter((n) => n.approvals);
    expect(approved.map((n) => n.stage).sort()).toEqual(sft.map((s) => s.stage).sort());
    const line = `approved corpus-review by alice at ${result.approval.at} (samples read fine), preview sha256:${preview.sha256.slice(0, 12)}`;
    expect(toText(graph).split('\n').filter((l) => l.includes(line))).toHaveLength(3);
    expect(toText(graph).split('\n').filter((l) => l.includes(line)).every((l) => /^\s*sft-hala-/.test(l))).toBe(true);
    expect(toMermaid(graph).split('\n').filter((l) => l.includes(`<br/>${line}`))).toHaveLength(3);
    expect(toDot(graph).split('\n').filter((l) => l.includes(`\\n${line}`))).toHaveLength(3);
  }, 180_000);

  it('holds again on a rerun whose sft stages come from the cache, and asks for its own approval', async () => {
    const id = 'gate-cached';
    const handle = await startCampaign(env.client, gated, harness.sha, { id });
    await until('the gate to wait', () => waiting(handle));
    const held = await progress(handle);
    expect(held.stages.filter((s) => s.kind === 'sft').every((s) => s.status === 'pending')).toBe(true);
    // `hala approve` itself: a refusal exits 2 with the validator's sentence, an approval exits 0 printing the preview.
    const refused = await hala('approve', id, 'corpus-reveiw', '--by', 'carol');
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toBe(`hala approve: no gate "corpus-reveiw" in campaign ${id} (declared: corpus-review)\n`);
    // No --by: the OS user running hala approves.
    const me = userInfo().username;
    const approved = await hala('approve', id, 'corpus-review');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`^hala: approved gate corpus-review of ${id} as ${me} at \\S+: sft goes on\npreview sha256:${held.gates![0]!.preview!.sha256}\n  funnel:\n    filter-opus: read=10`));
    expect(approved.stdout.match(/\n {4}c\d+ {2}user: question \d+ \| assistant: جواب \d+/g)).toHaveLength(5);
    const done = await handle.result();
    expect(done.progress.stages.filter((s) => s.kind === 'sft').map((s) => s.status)).toEqual(['cached', 'cached', 'cached']);
    expect(done.progress.gates?.[0]?.approval?.by).toBe(me);
  }, 120_000);

  it('a campaign cancelled while it waits at a gate ends cancelled, its held stages never started', async () => {
    const id = 'gate-cancelled';
    const handle = await startCampaign(env.client, { ...gated, seed: 31 }, harness.sha, { id });
    await until('the gate to wait', () => waiting(handle));
    const trained = sftCalls().length;
    expect(await cancelCampaign(env.client, id)).toMatch(/^cancel requested for gate-cancelled/);
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const after = await progress(handle);
    expect(after.state).toBe('cancelled');
    expect(after.stages.filter((s) => s.kind === 'sft').every((s) => s.status === 'pending')).toBe(true);
    expect(sftCalls().length).toBe(trained);
  }, 120_000);

  it('a recipe without gates refuses every approval and runs as before', async () => {
    const id = 'gate-less';
    const handle = await startCampaign(env.client, { ...harness.recipe, seed: 21 }, harness.sha, { id });
    await expect(approveGate(env.client, id, 'corpus-review', { by: 'alice' })).rejects.toThrow(
      new ApprovalRefused(`campaign ${id} declares no approval gates: there is nothing to approve`),
    );
    const done = await handle.result();
    expect(done.progress.state).toBe('completed');
    expect(done.progress).not.toHaveProperty('gates');
    const help = await hala('approve', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: hala approve \[options\] <campaign-id> <gate>[\s\S]*--by <name>[\s\S]*Refused \(exit 2\): an unknown gate[\s\S]*Example:\n {2}npx hala status [\s\S]*\n {2}npx hala approve \S+ corpus-review --by alice[\s\S]*Exit codes: 0 done, 1 the work failed, 2 refused/);
    await expect(approveGate(env.client, 'no-such-campaign', 'corpus-review', { by: 'alice' })).rejects.toThrow(
      new ApprovalRefused('no campaign no-such-campaign in this namespace (hala ls lists them)'),
    );
  }, 120_000);
});
