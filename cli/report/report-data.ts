// What `hala report` shows, gathered before anything is drawn: `--json` prints exactly this.
import type { CampaignProgress, StageStatus } from '../../contracts/campaign';
import type { LossHistory } from '../../contracts/gpu-activities';
import type { LineageGraph } from '../lineage';
import type { CheckReport } from '../../contracts/checks';
import type { BenchmarkedModel } from '../../contracts/benchmark-scores';

export interface StageRow {
  stage: string;
  kind: string;
  workflow_id: string;
  status: StageStatus;
  started_at?: string;
  ended_at?: string;
  /** Taken from the cache: its GPU cost was paid by the campaign that produced it (`produced_by`). */
  cached: boolean;
  produced_by?: string;
  error?: string;
  /** From the stage's manifest (its activities' GPU-seconds); absent while it runs or when it failed. */
  gpu_seconds?: number;
  gpu_hours?: number;
  /** GPU-hours times each activity's pool price; absent when some of its work ran on an unpriced pool. */
  cost?: number;
  /** The resource classes its GPU work was placed on, by queue role. */
  classes: Record<string, string>;
  /** Why `cost` is absent, in words. */
  cost_note?: string;
}

export interface ScorePair {
  bleu: number;
  chrf: number;
}

export interface StudentBenchmarks {
  student: string;
  stage: string;
  /** Scores per model variant that was benchmarked (campaigns before base and SFT were: `merged` only), each per benchmark. */
  series: Partial<Record<BenchmarkedModel, Record<string, number>>>;
  /** The variants with no scores, named rather than invented (`chosen` only where the recipe chose). */
  missing: BenchmarkedModel[];
  /** Which model stages.choose kept and why (its validation averages); absent when the recipe does not choose. */
  choice?: string;
}

export interface ReportData {
  campaign_id: string;
  recipe?: string;
  state: CampaignProgress['state'];
  /** Where the stages came from: the summary the campaign wrote when it ended, or its live progress query. */
  source: 'summary' | 'live';
  generated_at: string;
  stages: StageRow[];
  cost: {
    /** GPU-hours and cost of the stages this campaign ran itself (cached ones excluded). */
    gpu_hours: number;
    cost?: number;
    note?: string;
  };
  loss: { stage: string; points: LossHistory['points'] }[];
  translation: {
    teacher?: { bf16: ScorePair; fp8: ScorePair };
    translator?: { base: ScorePair; tuned: ScorePair };
  };
  benchmarks: StudentBenchmarks[];
  funnel: {
    filter?: Record<string, number>;
    corpus?: Record<string, number>;
  };
  lineage: LineageGraph;
  /** The recipe's checks as judged, with their figures and decisions; absent when it declares none. */
  checks?: CheckReport[];
  /** Every piece the report could not show, and why: said in words instead of an empty chart. */
  missing: string[];
}
