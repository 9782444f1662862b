// What a stage is, declared once in its own file: its name, the slice of the recipe it reads, its
// inputs, its headline metrics and its work. The campaign runs each declaration as a child workflow
// (run-stage.ts); the stage key hashes exactly the slice, and the work receives the slice, never the
// recipe, so a knob a stage reads cannot be missing from its key.
import type { Priority } from '@temporalio/common';
import type { ArtifactRef } from '../../contracts/artifact';
import type { SourceCheck } from '../../contracts/campaign';
import type { ActivitySummary, SourceDigest } from '../../contracts/lineage';
import type { Approval } from '../../contracts/gates';
import type { CheckReport } from '../../contracts/checks';
import type { StageKind } from '../../contracts/stages';
import type { Recipe } from '../../contracts/recipe';
import type { Placement } from '../../contracts/placement';
import type { CpuActivityFns } from '../../contracts/cpu-activity-fns';
import type { GpuActivityFns } from '../../contracts/gpu-activity-fns';
import type { CachedTranslationOutput, FanOutRequest } from '../cached-translation';
import type { ParentStage, StageDescription } from '../stage-story';
import type { EstimateContext, StageEstimate, UpstreamFigures } from './estimate-context';
import { perStudent } from './students';

/**
 * How a stage runs, as opposed to what it computes: where it writes, which queues and timeouts its
 * activities use, how fast its fan-outs go. None of it is in the key.
 */
export interface StageRuntime {
  campaign_id: string;
  store_root: string;
  code_version: string;
  /** Recompute under a fresh prefix (--no-cache, --rerun) instead of taking the cache or resuming. */
  forced: boolean;
  queues: Recipe['queues'];
  timeouts: Recipe['timeouts'];
  retries: Recipe['retries'];
  fan_out: Recipe['fan_out'];
  /** Priority of the stage's child workflows and activities (contracts/scheduling.ts). */
  priority: Priority;
  /** The gate approvals that released the stage (workflows/gates.ts); absent when no gate held it. */
  approvals?: Approval[];
  /** The check decisions that chose what the stage reads (workflows/checks.ts); absent when none did. */
  decisions?: CheckReport[];
}

/** The input of every stage workflow. */
export interface StageInput<Slice, Upstream> {
  runtime: StageRuntime;
  stage: string;
  /** Which stage of its kind (the student's position); errors name recipe fields with it. */
  index: number;
  slice: Slice;
  upstream: Upstream;
  /** The stages whose artifacts are in `upstream`, for the UI's links. */
  parents: ParentStage[];
}

/** An input of a stage: an upstream artifact's digest, or a raw source with the field it comes from. */
export type StageInputRef = string | SourceCheck;

/** What a stage's work has at hand: its activities, its key and prefix, and its fan-outs. */
export interface StageIo {
  cpu: CpuActivityFns;
  gpu: GpuActivityFns;
  stage_key: string;
  output_prefix: string;
  /** The raw sources the stage declared (its `inputs`), each with its recipe field: what a runner's errors about one name. */
  sources: readonly SourceCheck[];
  /** The digest openStage took of a raw source the stage declared (it is in the key): names a raw model in the translation cache. */
  sourceDigest(uri: string): string;
  /**
   * The translation fan-out as a child workflow; `part` names it when a stage runs several. With
   * `input.cache`, through the translation cache: only rows it does not hold are translated.
   */
  translate(input: FanOutRequest, part?: string): Promise<CachedTranslationOutput>;
}
export type { FanOutRequest };

/** What a stage's work returns: its payload, the artifacts to show, the figures to report. */
export interface StageWork<O> {
  output: O;
  artifacts: ArtifactRef[];
  metrics: Record<string, number>;
  /** Digests of raw sources read (for lineage), when the activities report them. */
  sources?: SourceDigest[];
  /** The GPU activities the work ran, folded by name (summarizeRuns): lineage's producer and GPU cost. */
  activities?: ActivitySummary[];
}

export interface StageOutcome<O> extends StageWork<O> {
  stage: string;
  stage_key: string;
  cached: boolean;
  forced: boolean;
  /** Taken from the cache where another campaign computed it: that campaign's id. */
  computed_by?: string;
  /** A `choose` check's decision on this stage's output (workflows/checks.ts): which candidate its readers take. */
  choice?: CheckReport;
}

export interface StageDeclaration<Slice, Upstream, Out> {
  /** The declaration's name; a stage of it is named `name(recipe, i)` (`sft` gives `sft-<student>`). One of StageKinds, which gates name. */
  kind: StageKind;
  /** The workflow type it runs as (served by workflows/stage-workflow.ts): its kind, `student-<kind>` for a student's. */
  workflow: string;
  /** How many stages of this kind the recipe has (one, or one per student). */
  count(recipe: Recipe): number;
  name(recipe: Recipe, i: number): string;
  /** Exactly what the stage reads of the recipe: its key, and all its work is given. */
  slice(recipe: Recipe, i: number): Slice;
  /**
   * Digests of the upstream artifacts and the raw sources it reads, in a fixed order. Sources name
   * their recipe field and kind: each is checked (a model directory, a parquet split) when the stage opens.
   */
  inputs(slice: Slice, upstream: Upstream, i: number): StageInputRef[];
  /**
   * Its row of `hala plan`, before anything runs: what it reads, its rows, shards, artifact size and
   * GPU-hours from the recipe's estimates (`x`), and the figures of the stages it reads (`up`).
   */
  estimate(x: EstimateContext, recipe: Recipe, i: number, up: UpstreamFigures<Upstream>): StageEstimate;
  /** The model the stage is about (the HalaModel search attribute): a label, not part of the key. */
  model(recipe: Recipe, i: number): string;
  /** The metrics `hala` shows for it in the campaign summary. */
  headline: readonly string[];
  /** Its artifacts are the campaign's products: `hala lineage <campaign>` walks back from them. */
  product?: boolean;
  /**
   * The worker pool (resource class) each GPU role of its work goes to, where the recipe's
   * `resources` route it; unrouted roles use their queue in `queues`. Scheduling only: in no key.
   */
  placement?(recipe: Recipe, i: number): Placement;
  /** What the stage makes of what, for its page in the Temporal UI (each declaration's own; shared phrases in stages/describe-helpers.ts). */
  describe?(recipe: Recipe, i: number): StageDescription;
  /** Its students' stages, which start together, reach their queue in the recipe's order (workflows/listed-order.ts). */
  listedOrder?: boolean;
  work(io: StageIo, slice: Slice, upstream: Upstream): Promise<StageWork<Out>>;
}

/** A declaration with its types erased, for lists of every kind. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStageDeclaration = StageDeclaration<any, any, any>;

/** A kind with one stage per recipe, named as its kind, which is also its workflow type: its spelling is the only one to write. */
export const single = (kind: StageKind) => ({ kind, workflow: kind, count: () => 1, name: () => kind });

/** A kind with one stage per student, `<kind>-<student>`, in recipe order; its workflow type `student-<kind>` says whose stage it is. */
export const everyStudent = (kind: StageKind) => ({
  kind,
  workflow: `student-${kind}`,
  count: perStudent.count,
  name: (r: Recipe, i: number) => `${kind}-${perStudent.student(r, i).name}`,
});
