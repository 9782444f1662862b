// What an approver sees and what is kept of the approval: the previewGate activity sampling a real
// parquet corpus through DuckDB (the same rows on every attempt, long texts cut, the file verified
// against its digest), and `hala lineage` showing approvals on the nodes of the stages they released.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SAMPLE_CHARS } from '../../activities/corpus';
import { createGatePreviewActivities, previewDigest } from '../../activities/gate-preview';
import { FileStore } from '../../activities/store';
import { approvalLine, toDot, toMermaid, toText, walkLineage } from '../../cli/lineage';
import { renderGates } from '../../cli/gate-summary';
import type { ArtifactRef } from '../../contracts/artifact';
import type { PreviewGateInput } from '../../contracts/cpu-activities';
import type { Approval, GatePreview } from '../../contracts/gates';
import type { LineageRecord } from '../../contracts/lineage';
import { writeConversations } from '../support/conversations-parquet';
import { sql } from '../support/duckdb-sql';

const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
let dir: string;
let store: FileStore;
let corpus: ArtifactRef;
const preview = (input: Partial<PreviewGateInput> = {}) =>
  env.run(createGatePreviewActivities({ store, workRoot: dir }).previewGate, {
    gate: 'corpus-review', before: 'sft', funnel: [{ stage: 'filter-opus', kind: 'filter-opus', metrics: { read: 10, kept: 8 } }],
    datasets: [corpus], samples: 5, seed: 0, ...input,
  }) as Promise<GatePreview>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hala-gate-'));
  store = new FileStore(`file://${dir}/store`);
  corpus = await writeConversations(store, `file://${dir}/store/stages/t/corpus/all.parquet`, 200);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('previewGate', () => {
  it('samples n rows of the corpus with the seed, in file order, the same on every attempt', async () => {
    const first = await preview();
    expect(first.samples).toHaveLength(1);
    const ids = first.samples[0]!.rows.map((r) => Number(String(r.id).slice(1)));
    expect(ids).toHaveLength(5);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    // A sample, not the head of the file.
    expect(ids).not.toEqual([0, 1, 2, 3, 4]);
    expect((await preview()).samples).toEqual(first.samples);
    expect((await preview({ seed: 1 })).samples[0]!.rows.map((r) => r.id)).not.toEqual(first.samples[0]!.rows.map((r) => r.id));
    expect(first.samples[0]!.rows[0]!.messages).toEqual([
      { role: 'user', content: `question ${ids[0]}` },
      { role: 'assistant', content: `جواب ${ids[0]}` },
    ]);
    expect(await preview({ samples: 0 })).toMatchObject({ samples: [{ dataset: corpus, rows: [] }] });
  });

  it('digests everything it shows: another funnel is another digest', async () => {
    const shown = await preview();
    const { sha256, ...rest } = shown;
    expect(sha256).toBe(previewDigest(rest));
    expect((await preview({ funnel: [] })).sha256).not.toBe(sha256);
  });

  it('cuts long cells, so the preview stays small in the history', async () => {
    const file = path.join(dir, 'long.parquet');
    await sql(`COPY (SELECT 'r' || i AS id, repeat('x', 5000) AS text FROM range(3) t(i)) TO '${file}' (FORMAT parquet)`);
    const long = await store.putFile(file, `file://${dir}/store/long.parquet`, 'dataset', 3);
    const rows = (await preview({ datasets: [long], samples: 10 })).samples[0]!.rows;
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.text).toBe(`${'x'.repeat(MAX_SAMPLE_CHARS)}…`);
  });

  it('refuses a corpus whose bytes are not the ones its digest names', async () => {
    const file = path.join(dir, 'swapped.parquet');
    await sql(`COPY (SELECT 'z' AS id) TO '${file}' (FORMAT parquet)`);
    const ref = await store.putFile(file, `file://${dir}/store/swapped.parquet`, 'dataset', 1);
    writeFileSync(path.join(dir, 'store', 'swapped.parquet'), 'not the same bytes');
    await expect(preview({ datasets: [ref] })).rejects.toThrow(/sha256|digest|size/i);
  });
});

describe('approvals shown', () => {
  const approval: Approval = { gate: 'corpus-review', by: 'alice', at: '2026-12-02T05:00:00.000Z', note: 'fine', preview_sha256: 'c'.repeat(64) };
  const record = (sha: string, stage: string, parents: string[], approvals?: Approval[]): LineageRecord => ({
    artifact: { uri: `file:///s/stages/${stage}/k/model`, sha256: sha, kind: 'model', bytes: 1 },
    stage, stage_key: 'k'.repeat(64),
    producer: { campaign_id: 'c', workflow_id: `c/${stage}`, run_id: 'r', code_version: '0', activities: [] },
    gpu_seconds: 0, forced: false, metrics: {}, parents: parents.map((p) => ({ kind: 'artifact' as const, sha256: p })),
    ...(approvals ? { approvals } : {}), config: {}, started_at: '', ended_at: '',
  });

  it('on the nodes of the stages the gate released, in every format, and only there', async () => {
    const records = new Map([
      ['a'.repeat(64), record('a'.repeat(64), 'merge-hala-350m', ['b'.repeat(64)])],
      ['b'.repeat(64), record('b'.repeat(64), 'sft-hala-350m', [], [approval])],
    ]);
    const graph = await walkLineage(['a'.repeat(64)], async (sha) => records.get(sha));
    expect(graph.nodes.find((n) => n.stage === 'sft-hala-350m')?.approvals).toEqual([approval]);
    expect(graph.nodes.find((n) => n.stage === 'merge-hala-350m')).not.toHaveProperty('approvals');
    const line = 'approved corpus-review by alice at 2026-12-02T05:00:00.000Z (fine), preview sha256:cccccccccccc';
    expect(approvalLine(graph.nodes.find((n) => n.stage === 'sft-hala-350m')!)).toBe(line);
    expect(toText(graph)).toMatch(new RegExp(`^merge-hala-350m: k/model a{12}  \\[no GPU activities; 0 GPU-s\\]\\n  sft-hala-350m: k/model b{12}  \\[no GPU activities; 0 GPU-s\\]  \\[${line.replace(/[()]/g, '\\$&')}\\]$`));
    expect(toMermaid(graph)).toContain(`["sft-hala-350m: k/model bbbbbbbbbbbb<br/>${line}"]`);
    expect(toDot(graph)).toContain(`[label=${JSON.stringify(`sft-hala-350m: k/model bbbbbbbbbbbb\n${line}`)}]`);
  });

  it('in hala status: a gate not reached, and one approved', () => {
    const text = renderGates({
      campaign_id: 'c', state: 'running', stages: [],
      gates: [
        { name: 'corpus-review', before: 'sft', state: 'approved', approval },
        { name: 'merge-review', before: 'merge', state: 'pending' },
      ],
    });
    expect(text).toBe('gate corpus-review before sft: approved by alice at 2026-12-02T05:00:00.000Z (fine)\ngate merge-review before merge: not reached yet');
    expect(renderGates({ campaign_id: 'c', state: 'running', stages: [] })).toBe('');
  });
});
