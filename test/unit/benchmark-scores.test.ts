import { describe, expect, it } from 'vitest';
import { scoreMetrics, scoresByModel } from '../../contracts/benchmark-scores';
import { renderSummary } from '../../cli/summary';
import type { CampaignProgress, StageReport } from '../../contracts/campaign';

const evaluated = (stage: string, metrics: Record<string, number>): StageReport =>
  ({ stage, kind: 'evaluate', status: 'completed', artifacts: [], metrics }) as unknown as StageReport;

describe('the scores of base, SFT and merged in one evaluate stage', () => {
  const metrics = {
    ...scoreMetrics('merged', { AlGhafa: 40, EXAMS: 30 }, 35),
    ...scoreMetrics('sft', { AlGhafa: 45, EXAMS: 33 }, 39),
    ...scoreMetrics('base', { AlGhafa: 25, EXAMS: 24 }, 24.5),
    oom_halvings: 1,
    batch_size: 8,
  };

  it('reads back what it wrote, per model, leaving the run figures out', () => {
    expect(scoresByModel(metrics)).toEqual({
      merged: { AlGhafa: 40, EXAMS: 30, average: 35 },
      sft: { AlGhafa: 45, EXAMS: 33, average: 39 },
      base: { AlGhafa: 25, EXAMS: 24, average: 24.5 },
    });
  });

  it('reads a campaign that scored the merged model alone as merged only', () => {
    expect(scoresByModel({ AlGhafa: 40, average: 40 })).toEqual({ merged: { AlGhafa: 40, average: 40 } });
  });

  it('prints one line per student and model in the campaign summary', () => {
    const progress = { campaign_id: 'c', state: 'completed', stages: [evaluated('evaluate-hala-350m', metrics)] } as unknown as CampaignProgress;
    const lines = renderSummary(progress, 'http://ui').split('\n');
    const at = lines.findIndex((l) => /^student\s+model\s+AlGhafa\s+EXAMS\s+avg$/.test(l));
    expect(at, lines.join('\n')).toBeGreaterThan(-1);
    expect(lines.slice(at + 1, at + 4).map((l) => l.split(/\s+/))).toEqual([
      ['hala-350m', 'base', '25.0', '24.0', '24.5'],
      ['hala-350m', 'sft', '45.0', '33.0', '39.0'],
      ['hala-350m', 'merged', '40.0', '30.0', '35.0'],
    ]);
  });
});
