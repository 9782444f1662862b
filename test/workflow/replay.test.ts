// Workflow evolution guard: every saved history (test/histories, recorded by
// scripts/record-histories.ts) must replay against today's workflow code without nondeterminism.
// A change that alters command order fails here; ship it behind patched() instead.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/temporal-env';

const dir = path.join(__dirname, '../histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('saved histories', () => {
  it('exist for the campaign and every stage workflow', () => {
    expect(files.length).toBeGreaterThanOrEqual(19);
  });

  it('replay against the current workflow code', async () => {
    const histories = files.map((f) => {
      const saved = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { workflowId: string; history: unknown };
      return { workflowId: saved.workflowId, history: historyFromJSON(saved.history) };
    });
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('stop a campaign or stage of an older release with what to do, and leave it open (a workflow task failure)', async () => {
    const older = path.join(__dirname, '../histories-of-older-releases');
    const histories = readdirSync(older).sort().map((f) => {
      const saved = JSON.parse(readFileSync(path.join(older, f), 'utf8')) as { workflowId: string; history: unknown };
      return { workflowId: saved.workflowId, history: historyFromJSON(saved.history) };
    });
    const errors: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) errors.push(r.error?.message ?? 'replayed');
    expect(errors).toHaveLength(4);
    // The campaign (0.2.0's type `campaign`): the release guard names both versions and the fix.
    expect(errors[0]).toMatch(/workflow task failure.*started on Hala Flow 0\.2\.0; this worker runs 0\.5\.\d+.*Keep workers of 0\.2\.0/);
    // A stage of 0.2.0 ran as type `evaluate`, which 0.3 calls `student-evaluate`.
    expect(errors[1]).toMatch(/workflow task failure.*runs no workflow of type \\"evaluate\\" \(started on another release\?\)/);
    // A 0.3.0 campaign (before checks, the choose stages, stage claims and the translation cache) waits the same way.
    expect(errors[2]).toMatch(/workflow task failure.*started on Hala Flow 0\.3\.0; this worker runs 0\.5\.\d+.*Keep workers of 0\.3\.0/);
    // A 0.4.0 campaign (before merges moved to the quantize queue and lid.176 became the builtin identifier) too.
    expect(errors[3]).toMatch(/workflow task failure.*started on Hala Flow 0\.4\.0; this worker runs 0\.5\.\d+.*Keep workers of 0\.4\.0/);
    for (const e of errors) expect(e).not.toMatch(/[Nn]ondeterminism/);
  }, 60_000);

  it('catches a history the code no longer produces (the guard can fail)', async () => {
    // Replaying the fan-out stage under another id makes the code ask for a differently named
    // child than the history holds: the same error a reordered or renamed command gives.
    const file = files.find((f) => f.includes('build-bilingual-corpus-'))!;
    const saved = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { workflowId: string; history: unknown };
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [{ workflowId: `${saved.workflowId}-v2`, history: historyFromJSON(saved.history) }])) results.push(r);
    expect(results[0]?.error?.message).toMatch(/[Nn]ondeterminism/);
  }, 60_000);
});
