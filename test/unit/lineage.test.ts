// The producer side of lineage: GPU activity runs folded per activity name (as stage workflows do),
// and `hala lineage` rendering source digests and producer cost in every format.
import { describe, expect, it } from 'vitest';
import { producerLine, toDot, toMermaid, toText, walkLineage } from '../../cli/lineage';
import type { ActivityRun } from '../../contracts/gpu-activities';
import type { LineageRecord } from '../../contracts/lineage';
import { combineActivities, summarizeRuns } from '../../workflows/activity-summaries';

const run = (activity: string, attempt: number, seconds: number, gpus = 1): { run: ActivityRun } => ({
  run: {
    activity, activity_id: `${activity}-${attempt}`, attempt, worker: '1@gpu', device: gpus ? `cuda x${gpus}` : 'cpu', gpus,
    started_at: '2026-01-01T00:00:00Z', ended_at: '2026-01-01T00:01:00Z', seconds, gpu_seconds: seconds * gpus,
  },
});

describe('activity summaries', () => {
  it('fold runs by activity name: count, attempts, retried calls, seconds, GPU-seconds', () => {
    const folded = summarizeRuns([run('translate_shard', 1, 10, 2), run('score_translation', 1, 1, 0), run('translate_shard', 3, 5, 2)]);
    expect(folded).toEqual([
      { activity: 'score_translation', count: 1, attempts: 1, retries: 0, seconds: 1, gpu_seconds: 0 },
      { activity: 'translate_shard', count: 2, attempts: 4, retries: 1, seconds: 15, gpu_seconds: 30 },
    ]);
    // Folding onto an earlier summary (continue-as-new) never changes the earlier one.
    const more = summarizeRuns([run('translate_shard', 1, 1)], folded);
    expect(more[1]).toMatchObject({ count: 3, attempts: 5, gpu_seconds: 31 });
    expect(folded[1]!.count).toBe(2);
  });

  it('add summaries of several children', () => {
    const a = summarizeRuns([run('translate_shard', 2, 4)]);
    const b = summarizeRuns([run('translate_shard', 1, 6), run('train_sft', 1, 100, 8)]);
    expect(combineActivities(a, [], b)).toEqual([
      { activity: 'train_sft', count: 1, attempts: 1, retries: 0, seconds: 100, gpu_seconds: 800 },
      { activity: 'translate_shard', count: 2, attempts: 3, retries: 1, seconds: 10, gpu_seconds: 10 },
    ]);
  });
});

describe('hala lineage rendering', () => {
  const teacherSha = 'e'.repeat(64);
  const modelSha = 'f'.repeat(64);
  const record: LineageRecord = {
    artifact: { uri: 'file:///s/stages/compress-teacher/abc/fp8/model', sha256: modelSha, kind: 'model', bytes: 1 },
    stage: 'compress-teacher',
    stage_key: 'k'.repeat(64),
    producer: {
      campaign_id: 'c', workflow_id: 'c/compress-teacher', run_id: 'r', code_version: '0.1.0',
      activities: [
        { activity: 'compress_teacher', count: 1, attempts: 1, retries: 0, seconds: 60, gpu_seconds: 120 },
        { activity: 'translate_shard', count: 2, attempts: 3, retries: 1, seconds: 20, gpu_seconds: 40.04 },
      ],
    },
    gpu_seconds: 160.04,
    forced: false,
    metrics: {},
    parents: [
      { kind: 'source', uri: 'hf://CohereLabs/command-a', sha256: teacherSha, revision: '0123456789abcdef0123456789abcdef01234567' },
      { kind: 'source', uri: 'hf://datasets/org/train.parquet', sha256: 'd'.repeat(64) },
    ],
    config: {},
    started_at: '',
    ended_at: '',
  };
  const load = async (sha: string) => (sha === modelSha ? record : undefined);

  it('show short source digests (and hub commits) in text, Mermaid and dot', async () => {
    const graph = await walkLineage([modelSha], load);
    for (const rendered of [toText(graph), toMermaid(graph), toDot(graph)]) {
      expect(rendered).toContain(`hf://CohereLabs/command-a sha256:${teacherSha.slice(0, 12)} @0123456`);
      expect(rendered).toContain(`hf://datasets/org/train.parquet sha256:${'d'.repeat(12)}`);
      expect(rendered).not.toContain(teacherSha);
    }
  });

  it("show the producer's activities, attempts and GPU-seconds in text and JSON", async () => {
    const graph = await walkLineage([modelSha], load);
    const text = toText(graph);
    expect(text.split('\n')[0]).toBe(
      `compress-teacher: fp8/model ${modelSha.slice(0, 12)}  [compress_teacher ×1, translate_shard ×2 (3 attempts, 1 retried); 160 GPU-s]`,
    );
    const json = JSON.parse(JSON.stringify(graph)) as { nodes: { id: string; activities?: unknown; gpu_seconds?: number; sha256?: string }[] };
    const model = json.nodes.find((n) => n.id === modelSha)!;
    expect(model.activities).toEqual(record.producer.activities);
    expect(model.gpu_seconds).toBe(160.04);
    expect(json.nodes.find((n) => n.id === 'source:hf://CohereLabs/command-a')?.sha256).toBe(teacherSha);
    expect(producerLine({ id: 'x', kind: 'artifact' })).toBeUndefined();
  });

  it('says when out of memory made the producer halve its batch', () => {
    const train = { activity: 'train_sft', count: 1, attempts: 2, retries: 1, seconds: 90, gpu_seconds: 90 };
    const node = { id: 'x', kind: 'artifact' as const, activities: [train], gpu_seconds: 90 };
    expect(producerLine({ ...node, metrics: { oom_halvings: 1 } })).toBe('train_sft ×1 (2 attempts, 1 retried); out of memory: batch halved 1×; 90 GPU-s');
    expect(producerLine({ ...node, metrics: { steps: 60 } })).toBe('train_sft ×1 (2 attempts, 1 retried); 90 GPU-s');
  });
});
