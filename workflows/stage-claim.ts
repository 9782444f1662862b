// One computation per stage key across campaigns on one store. A stage about to compute first starts
// a claim: a child workflow whose id names the store and the key, and which only waits. Temporal
// lets one workflow run per id at a time, so a second campaign's start of the same claim fails with
// WorkflowExecutionAlreadyStartedError: it waits for the claim to close, then opens the stage again
// and takes the holder's manifest. The claim closes with its holder however the holder ends (parent
// close policy TERMINATE), so a failed holder's waiter finds no manifest, claims, and computes.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { OpenStageOutput } from '../contracts/campaign';
import { nonRetryableErrorTypes } from '../contracts/errors';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import type { StageClaimHolder, StageClaimMemo } from '../contracts/stage-claims';
import type { StageStatus } from './stage-status';
import { workflowLink } from './stage-story';
import type { StageRuntime } from './stages/declaration';

/** The claim on a stage key: it holds the key by running, until its holder closes (and terminates it) or it is cancelled. */
export async function stageClaim(): Promise<void> {
  await condition(() => false);
}

/**
 * `hala-claim/<store digest>/<stage key>`: one claim per key and store (another store's campaigns
 * compute their own). Two stores whose digests collide only make one wait for the other: it then
 * finds no manifest in its own store, claims, and computes.
 */
export const claimWorkflowId = (storeRoot: string, stageKey: string) => `hala-claim/${shortDigest(storeRoot)}/${stageKey}`;

/** FNV-1a over UTF-16 code units, 64 bits, in hex: workflow code has no crypto module, and the id only has to tell stores apart. */
function shortDigest(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) hash = BigInt.asUintN(64, (hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
}

export interface ClaimContext {
  runtime: StageRuntime;
  stage: string;
  status: StageStatus;
  /** openStage again, with the same input: after a wait, the holder's manifest (or none, if it failed). */
  reopen: () => Promise<OpenStageOutput>;
}

/**
 * What the stage does with the key `opened` found no manifest for: it returns once this stage holds
 * the claim (compute), or once a manifest exists (`cached_output`: another campaign computed it).
 * Not for forced stages: they compute their own and never wait.
 */
export async function holdOrTakeOver(opened: OpenStageOutput, { runtime, stage, status, reopen }: ClaimContext): Promise<OpenStageOutput> {
  const claimId = claimWorkflowId(runtime.store_root, opened.stage_key);
  const waits = claimActivities(runtime);
  for (;;) {
    if (opened.cached_output !== undefined) return opened;
    // Claimed: look once more, for a holder may have written its manifest and let go between our
    // lookup and our claim; a manifest found now is taken (its claim ends with this stage).
    if (await claim(claimId, runtime, stage)) return reopen();
    // Each round waits for a run that was running, so it ends: this stage claims, or a manifest appears.
    const holder = await waits.stageClaimHolder({ claim_workflow_id: claimId });
    if (holder) {
      status.setPhase(waitingPhase(holder, opened.stage_key));
      await waits.awaitStageClaim({ claim_workflow_id: claimId, run_id: holder.run_id, campaign_id: holder.campaign_id });
    }
    status.setPhase('opening (stage key, cache lookup)');
    opened = await reopen();
  }
}

/** True when this stage now holds the claim; false when another run holds it. */
async function claim(claimId: string, runtime: StageRuntime, stage: string): Promise<boolean> {
  const stageWorkflowId = workflowInfo().workflowId;
  const memo: StageClaimMemo = { campaign_id: runtime.campaign_id, stage_workflow_id: stageWorkflowId };
  try {
    await startChild(stageClaim, {
      workflowId: claimId,
      // Said outright though it is the default: the claim must never outlive the stage that holds it.
      parentClosePolicy: 'TERMINATE',
      memo: { ...memo },
      priority: runtime.priority,
      staticSummary: `claim on the stage key of ${stage} for campaign ${runtime.campaign_id}`,
      staticDetails: `While this runs, [${stageWorkflowId}](${workflowLink(workflowInfo().namespace, stageWorkflowId)}) computes this stage key on store \`${runtime.store_root}\`; other campaigns wait for it and take its manifest.`,
    });
    return true;
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw e;
  }
}

/** The stage's page while it waits: whom for, and where to look. */
function waitingPhase(holder: StageClaimHolder, stageKey: string): string {
  const link = workflowLink(workflowInfo().namespace, holder.stage_workflow_id);
  return `waiting for campaign ${holder.campaign_id}, which is computing stage key ${stageKey.slice(0, 16)} on this store ([${holder.stage_workflow_id}](${link})); its result is taken from the cache when it ends`;
}

type ClaimActivities = Pick<CpuActivityFns, 'stageClaimHolder' | 'awaitStageClaim'>;

/**
 * The CPU queue's claim activities. The wait lasts as long as the holder computes (days for a large
 * SFT), so no start-to-close that a holder could outlast matters: a timed-out attempt is retried,
 * without limit, and waits on. The heartbeat brings cancellation (the campaign cancelled) to it.
 */
function claimActivities({ queues, timeouts, priority }: StageRuntime): ClaimActivities {
  return proxyActivities<ClaimActivities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '1d',
    heartbeatTimeout: `${timeouts.heartbeat_s ?? 120}s`,
    retry: { initialInterval: '2s', maximumInterval: '1m', nonRetryableErrorTypes },
    priority,
  });
}
