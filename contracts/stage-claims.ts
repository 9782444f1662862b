// Payloads of the activities a stage workflow runs when another campaign holds the claim on its
// stage key (activities/stage-claims.ts, workflows/stage-claim.ts). Types only: the workflow builds
// them and the worker's own client answers them, nothing outside the two reads them.

/** Which claim: the claim workflow's id, `hala-claim/<store digest>/<stage key>`. */
export interface StageClaimHolderInput {
  claim_workflow_id: string;
}

/** Who holds a claim while it runs: from the memo its holder gave it. */
export interface StageClaimHolder {
  /** The claim workflow's run: the one the waiter waits to close. */
  run_id: string;
  campaign_id: string;
  /** The holder's stage workflow (`<campaign>/<stage>`). */
  stage_workflow_id: string;
}

/** Wait for this run of the claim to close (completed, failed, cancelled, terminated or gone). */
export interface AwaitStageClaimInput {
  claim_workflow_id: string;
  run_id: string;
  /** The holder's campaign: what the wait's heartbeats (hala watch) name. */
  campaign_id: string;
}

/** What the claim's holder writes into its memo (read back as StageClaimHolder). */
export interface StageClaimMemo {
  campaign_id: string;
  stage_workflow_id: string;
}
