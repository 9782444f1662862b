// The TypeScript activities on the CPU queue, declared for workflows (types only): workflows proxy
// them by this interface and never import activities/. workers/cpu-worker.ts builds the object it
// registers with `satisfies CpuActivityFns` and no name beyond it, so the two cannot drift apart.
import type {
  AssembleBilingualInput,
  AssembleBilingualOutput,
  AssembleConversationsInput,
  AssembleConversationsOutput,
  ConcatConversationsInput,
  ConcatConversationsOutput,
  FilterOpusInput,
  FilterOpusOutput,
  PrepareSegmentsInput,
  PrepareSegmentsOutput,
  PrepareTranslationDevInput,
  PrepareTranslationDevOutput,
  PreviewGateInput,
} from './cpu-activities';
import type { CloseStageInput, OpenStageInput, OpenStageOutput } from './campaign';
import type { ArtifactRef } from './artifact';
import type { GatePreview } from './gates';
import type { LoadRefPageInput, SaveRefListInput } from './ref-lists';
import type { DoctorCpuProbeInput, DoctorProbeOutput } from './doctor';
import type { AwaitStageClaimInput, StageClaimHolder, StageClaimHolderInput } from './stage-claims';
import type { SplitTranslationCacheInput, SplitTranslationCacheOutput } from './translation-cache';

/** Which queue `queuePollers` asks about. */
export interface QueuePollersInput {
  queue: string;
  /** The GPU role the queue serves (its pollers poll for activities); `cpu` for the workflow queue. */
  role: string;
}

export interface WriteCampaignReportInput {
  store_root: string;
  campaign_id: string;
  report: unknown;
}

export interface CpuActivityFns {
  openStage(input: OpenStageInput): Promise<OpenStageOutput>;
  closeStage(input: CloseStageInput): Promise<void>;
  filterOpus(input: FilterOpusInput): Promise<FilterOpusOutput>;
  prepareSegments(input: PrepareSegmentsInput): Promise<PrepareSegmentsOutput>;
  assembleConversations(input: AssembleConversationsInput): Promise<AssembleConversationsOutput>;
  assembleBilingual(input: AssembleBilingualInput): Promise<AssembleBilingualOutput>;
  prepareTranslationDev(input: PrepareTranslationDevInput): Promise<PrepareTranslationDevOutput>;
  concatConversations(input: ConcatConversationsInput): Promise<ConcatConversationsOutput>;
  writeCampaignReport(input: WriteCampaignReportInput): Promise<ArtifactRef>;
  saveRefList(input: SaveRefListInput): Promise<ArtifactRef>;
  loadRefPage(input: LoadRefPageInput): Promise<ArtifactRef[]>;
  /** Before a translation fan-out: the rows the translation cache holds, and the rest re-sharded (contracts/translation-cache.ts). */
  splitTranslationCache(input: SplitTranslationCacheInput): Promise<SplitTranslationCacheOutput>;
  previewGate(input: PreviewGateInput): Promise<GatePreview>;
  queuePollers(input: QueuePollersInput): Promise<{ pollers: number }>;
  /** The build the worker deployment's current version runs (null: unversioned, or none current). */
  deploymentTarget(): Promise<{ build_id: string | null }>;
  doctorCpuProbe(input: DoctorCpuProbeInput): Promise<DoctorProbeOutput>;
  /** Who holds the claim on a stage key (null: it closed meanwhile); workflows/stage-claim.ts. */
  stageClaimHolder(input: StageClaimHolderInput): Promise<StageClaimHolder | null>;
  /** Returns when that run of the claim closes. */
  awaitStageClaim(input: AwaitStageClaimInput): Promise<void>;
}
