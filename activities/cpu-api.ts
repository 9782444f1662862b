// The TypeScript activities on the CPU queue, declared for workflows (types only).
// workers/cpu-worker.ts registers an object checked against this interface.
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
} from '../contracts/cpu-activities';
import type { CloseStageInput, OpenStageInput, OpenStageOutput } from '../contracts/campaign';
import type { ArtifactRef } from '../contracts/artifact';
import type { GatePreview } from '../contracts/gates';
import type { LoadRefPageInput, SaveRefListInput } from './ref-lists';
import type { QueuePollersInput } from './queue-pollers';
import type { DoctorCpuProbeInput, DoctorProbeOutput } from '../contracts/doctor';

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
  previewGate(input: PreviewGateInput): Promise<GatePreview>;
  queuePollers(input: QueuePollersInput): Promise<{ pollers: number }>;
  doctorCpuProbe(input: DoctorCpuProbeInput): Promise<DoctorProbeOutput>;
}
