// Who holds the claim on a stage key, and waiting for it to let go: what a stage workflow runs when
// another campaign on the same store is computing the same key (workflows/stage-claim.ts). Both ask
// Temporal through the worker's own client, as queue-pollers.ts does.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { AwaitStageClaimInput, StageClaimHolder, StageClaimHolderInput, StageClaimMemo } from '../contracts/stage-claims';
import type { Progress } from '../contracts/progress';

/** A claim the server no longer knows (closed and past retention) holds nothing: the client's error, or gRPC NOT_FOUND from the raw service. */
const NOT_FOUND = 5;
const isNotFound = (e: unknown) => e instanceof WorkflowNotFoundError || (e as { code?: number } | undefined)?.code === NOT_FOUND;
const HEARTBEAT_EVERY_MS = 5000;

export function createStageClaimActivities() {
  return {
    /** The running claim's run and holder; null when it has closed meanwhile (the waiter then claims again). */
    async stageClaimHolder({ claim_workflow_id }: StageClaimHolderInput): Promise<StageClaimHolder | null> {
      const { client } = Context.current();
      try {
        const described = await client.workflow.getHandle(claim_workflow_id).describe();
        if (described.status.name !== 'RUNNING') return null;
        const memo = (described.memo ?? {}) as Partial<StageClaimMemo>;
        const holder = described.parentExecution?.workflowId ?? '';
        return { run_id: described.runId, campaign_id: memo.campaign_id ?? holder, stage_workflow_id: memo.stage_workflow_id ?? holder };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },

    /**
     * Returns when the claim's run closes, however it closes: a long poll on its close event (as the
     * client's result() does), one poll at a time so that a cancelled wait stops after the poll in
     * flight instead of polling until the holder ends. Heartbeats carry the cancellation here.
     */
    async awaitStageClaim({ claim_workflow_id, run_id, campaign_id }: AwaitStageClaimInput): Promise<void> {
      const context = Context.current();
      const { client } = context;
      const progress: Progress = { phase: `waiting for campaign ${campaign_id} to compute this stage key (${claim_workflow_id})`, done: 0, total: 0, checkpoint_uri: null, metrics: {} };
      context.heartbeat(progress);
      const timer = setInterval(() => context.heartbeat(progress), HEARTBEAT_EVERY_MS);
      timer.unref();
      const request: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest = {
        namespace: client.options.namespace,
        execution: { workflowId: claim_workflow_id, runId: run_id },
        waitNewEvent: true,
        skipArchival: true,
        historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
      };
      try {
        for (;;) {
          const poll = client.workflowService.getWorkflowExecutionHistory(request);
          // A poll left behind by cancellation ends at the server's long-poll timeout; nothing reads it.
          poll.catch(() => undefined);
          const answer = await Promise.race([poll, context.cancelled]);
          if ((answer.history?.events?.length ?? 0) > 0) return;
          request.nextPageToken = answer.nextPageToken;
        }
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      } finally {
        clearInterval(timer);
      }
    },
  };
}
