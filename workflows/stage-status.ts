// The live view of one stage workflow: its phase, the GPU calls it waits on with their progress
// (the activity-progress signal), its fan-outs, and finally what it produced. Every change is
// written to the workflow's current details, which the Temporal UI reads through its metadata query.
import { setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ActivityProgress } from '../contracts/activity-progress';
import { activityProgressSignal } from './definitions';
import { clock, currentDetails, type CallView, type FanOutView, type FinishedView, type ParentStage } from './stage-story';

export class StageStatus {
  private phase = 'opening (stage key, cache lookup)';
  private readonly startedAt = clock();
  private readonly calls = new Set<CallView>();
  private readonly fanOuts = new Set<FanOutView>();
  private finished?: FinishedView;

  constructor(private readonly parents: ParentStage[]) {
    setHandler(activityProgressSignal, (p) => this.progress(p));
    this.render();
  }

  setPhase(phase: string): void {
    this.phase = phase;
    this.render();
  }

  /** A GPU call scheduled on `queue`; the returned view is the one its progress and queue checks update. */
  callStarted(activity: string, queue: string): CallView {
    const call: CallView = { activity, queue, scheduled_at: clock() };
    this.calls.add(call);
    this.render();
    return call;
  }

  callEnded(call: CallView): void {
    this.calls.delete(call);
    this.render();
  }

  /** The queue check found nobody polling `call`'s queue (or, `false`, somebody). */
  queueChecked(call: CallView, unserved: boolean): void {
    call.no_worker_since = unserved ? call.scheduled_at : undefined;
    this.render();
  }

  fanOutStarted(view: FanOutView): () => void {
    this.fanOuts.add(view);
    this.render();
    return () => {
      this.fanOuts.delete(view);
      this.render();
    };
  }

  done(finished: FinishedView): void {
    this.finished = finished;
    this.render();
  }

  /** Progress of one of our calls: matched by activity id, else taken by the first call of that name not yet matched. */
  private progress(p: ActivityProgress): void {
    const calls = [...this.calls].filter((c) => c.activity === p.activity);
    const call = calls.find((c) => c.progress?.activity_id === p.activity_id) ?? calls.find((c) => c.progress === undefined);
    if (!call) return; // a report that arrived after its call ended
    call.progress = p;
    call.no_worker_since = undefined; // a worker has it now
    this.render();
  }

  private render(): void {
    // While calls or fan-outs are out, the phase is what they are; between them, the stage's own.
    const waitingOn = [...new Set([...this.calls].map((c) => c.activity)), ...(this.fanOuts.size ? ['the translation fan-out'] : [])];
    const view = {
      namespace: workflowInfo().namespace,
      phase: waitingOn.length && !this.finished ? `running ${waitingOn.join(', ')}` : this.phase,
      started_at: this.startedAt,
      now: clock(),
      parents: this.parents,
      calls: [...this.calls],
      fan_outs: [...this.fanOuts],
      finished: this.finished,
    };
    setCurrentDetails(currentDetails(view));
  }
}
