// The markdown the Temporal UI shows of a stage: figures, durations and the lines an operator reads.
import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../../cli/recipe-file';
import { stageDeclarations } from '../../workflows/stages';
import { currentDetails, duration, fanOutDetails, figure, modelName, rate, workflowLink, type StageView } from '../../workflows/stage-story';

const view = (patch: Partial<StageView>): StageView => ({ namespace: 'default', phase: 'running train_sft', started_at: 0, now: 90_000, parents: [], calls: [], fan_outs: [], ...patch });

describe('stage story', () => {
  it('writes durations, figures and learning rates as people read them', () => {
    expect([duration(0), duration(59_400), duration(60_000), duration(3_599_000), duration(3_600_000 + 20 * 60_000), duration(3 * 86_400_000 + 3_600_000)]).toEqual([
      '0 s', '59 s', '1 min', '59 min', '1 h 20 min', '3 d 1 h',
    ]);
    expect([figure(0.81234), figure(1234), figure(2.5e-7)]).toEqual(['0.8123', '1234', '2.5e-7']);
    expect([rate(0.002), rate(2e-5), rate(0.00015)]).toEqual(['2e-3', '2e-5', '1.5e-4']);
    expect(modelName('hf://LiquidAI/LFM2-350M/')).toBe('LFM2-350M');
    expect(workflowLink('default', 'tiny/sft-hala-350m')).toBe('/namespaces/default/workflows/tiny%2Fsft-hala-350m');
  });

  it('says no worker on the queue, for how long, until progress comes', () => {
    const waiting = currentDetails(view({ calls: [{ activity: 'train_sft', queue: 'hala-gpu-train', scheduled_at: 0, no_worker_since: 0 }], now: 5 * 60_000 }));
    expect(waiting).toContain('**no worker on hala-gpu-train for 5 min**: train_sft waits until one polls it (hala workers)');
    expect(waiting).toContain('- train_sft on hala-gpu-train: scheduled 00:00:00 UTC, no progress yet');
    expect(waiting).toMatch(/^\*\*Now:\*\* running train_sft \(stage started 00:00:00 UTC\)/);
    const progress = { activity: 'train_sft', activity_id: '1', attempt: 2, phase: 'train', done: 50, total: 200, rate: 0.5, eta_s: 300, metrics: { loss: 1.25 }, elapsed_s: 100 };
    const working = currentDetails(view({ calls: [{ activity: 'train_sft', queue: 'hala-gpu-train', scheduled_at: 0, progress }] }));
    expect(working).not.toContain('no worker');
    expect(working).toContain('- train_sft (attempt 2, 1 min in) train: 50/200 (25%) · loss 1.25 · 0.5/s · ETA 5 min');
  });

  it('gives a fan-out its rate and ETA from its own completions', () => {
    const details = fanOutDetails({ shards_done: 30, shard_count: 40, rows_done: 3000, in_flight: 8, run_started_at: 0, done_this_run: 10, now: 600_000, paused: false });
    // 10 shards in 10 min: 1 a minute, 10 left.
    expect(details).toBe('**Translating:** 30/40 shards · 3000 rows translated · 8 in flight · 1 shards/min · ETA 10 min');
  });

  it('every stage of the tiny recipe describes itself in one line that names it (and its student)', () => {
    const loaded = loadRecipe(`${__dirname}/../../recipes/tiny.yaml`);
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const summaries = stageDeclarations.flatMap((d) => Array.from({ length: d.count(loaded.recipe) }, (_, i) => d.describe!(loaded.recipe, i).summary));
    expect(summaries).toHaveLength(18);
    for (const line of summaries) expect(line).not.toContain('\n');
    expect(summaries).toContain('sft hala-700m — lfm2-700m on the translated instructions, lr 3e-3, 8 epochs');
    expect(summaries).toContain('train-translator — lfm2-1.2b on the bilingual corpus, lr 3e-3, 8 epochs');
    expect(summaries).toContain('merge hala-1-2b — slerp t=0.5 of the SFT weights with lfm2-1.2b');
    expect(summaries).toContain('choose hala-700m — SFT, merged at t=0.5 or t=0.3, 0.7, on 20% of each benchmark held out');
    expect(summaries).toContain('evaluate hala-350m — 6 benchmarks on the base, SFT, merged and chosen models');
  });
});
