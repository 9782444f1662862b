// The Hala recipe as one durable workflow: workflows/recipe-dag.ts says which stage reads what; here
// each stage becomes a child workflow with the id `<campaign>/<stage>`, held at its gates and while
// the campaign is paused, tracked for `hala status`; independent stages run at the same time.
import { ApplicationFailure, condition, executeChild, getExternalWorkflowHandle, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CampaignInput, CampaignProgress } from '../contracts/campaign';
import type { CampaignSummary } from '../contracts/campaign-summary';
import { placedQueues, type Placement } from '../contracts/placement';
import { campaignPriority, stagePriority } from '../contracts/scheduling';
import { HalaCampaign, HalaModel, HalaRecipeHash, HalaStage } from '../contracts/search-attributes';
import { cpuActivities } from './activity-proxies';
import { pauseSignal, progressQuery, resumeSignal } from './definitions';
import { fanOutWorkflowId } from './fan-out-ids';
import { Gates } from './gates';
import { CampaignBudget } from './budget';
import { CampaignChecks } from './checks';
import { CurrentDetails } from './current-details';
import { recipeDag } from './recipe-dag';
import { waitForListedTurn } from './listed-order';
import { requireOwnRelease } from './release-guard';
import type { StageDeclaration, StageInput, StageOutcome, StageRuntime } from './stages/declaration';
import { plannedStages } from './stages/plan';
import { StageTracker } from './stage-tracker';
import { staticDetails } from './stage-story';
import { translatePauseSignal } from './translate-corpus';

export interface CampaignResult {
  campaign_id: string;
  progress: CampaignProgress;
  report_uri: string;
}

export async function campaign(input: CampaignInput): Promise<CampaignResult> {
  requireOwnRelease(input.code_version, `campaign ${input.campaign_id}`);
  const { recipe } = input;
  const tracker = new StageTracker(input.campaign_id);
  for (const { stage, kind } of plannedStages(recipe)) tracker.planned(stage, kind);
  // On a queue shared with other campaigns: the recipe's priority key and fair share, one key higher
  // for the stages of the critical path the CLI planned. Set on every child and activity (what the
  // server would otherwise merge in from this workflow), so each command says what it carries.
  const priority = campaignPriority(recipe.scheduling, input.campaign_id);
  const critical = new Set(input.critical_path);
  const own = { ...recipe, priority };
  const runtimeOf = (stage: string, placement: Placement | undefined): StageRuntime => ({
    campaign_id: input.campaign_id,
    store_root: input.store_root,
    code_version: input.code_version,
    forced: !input.use_cache || input.rerun.includes(stage),
    queues: placedQueues(recipe.queues, placement),
    timeouts: recipe.timeouts,
    retries: recipe.retries,
    fan_out: recipe.fan_out,
    priority: stagePriority(priority, critical.has(stage)),
  });

  const writeSummary = (progress: CampaignProgress) =>
    cpuActivities(own).writeCampaignReport({
      store_root: input.store_root,
      campaign_id: input.campaign_id,
      // The recipe rides along so `hala report` prices each stage by the pools it ran on.
      report: { campaign_id: input.campaign_id, recipe: recipe.name, recipe_sha256: input.recipe_sha256, progress, recipe_spec: recipe } satisfies CampaignSummary,
    });

  // Approval gates the recipe declares (none: no command changes): they hold the stages of a kind.
  const details = new CurrentDetails();
  const gates = new Gates(recipe, cpuActivities(own), () => tracker.snapshot('running').stages, details);
  gates.register();
  // The budget (none: no command changes either): new stages wait while the spend is at a cap.
  const budget = new CampaignBudget(recipe.budget, input.planned_spend ?? {}, details);
  budget.register();
  // The recipe's checks (none: no command changes): judged after their stage, before its readers.
  const checks = new CampaignChecks(recipe, input.planned_rows ?? {}, gates, (name, err) => tracker.failed(name, err), details);
  const snapshot = (s: CampaignProgress['state']): CampaignProgress => ({ ...tracker.snapshot(s), ...gates.report(), ...budget.report(), ...checks.report() });

  let paused = false;
  let state: CampaignProgress['state'] = 'running';
  setHandler(progressQuery, () => snapshot(paused && state === 'running' ? 'paused' : state));
  setHandler(pauseSignal, () => setPaused(true));
  setHandler(resumeSignal, () => setPaused(false));
  function setPaused(value: boolean) {
    paused = value;
    // Running fan-outs stop taking new shards too.
    for (const id of tracker.running()) {
      for (const child of [fanOutWorkflowId(id), ...recipe.inputs.instruction_sets.map((s) => fanOutWorkflowId(id, s.name))]) {
        getExternalWorkflowHandle(child).signal(translatePauseSignal, value).catch(() => undefined);
      }
    }
  }

  /** Run stage `i` of a kind: wait at its gates and while paused, hand it its slice, track it; a failure is recorded and rethrown to its branch. */
  async function stage<S, U, O>(declaration: StageDeclaration<S, U, O>, upstream: U, i = 0): Promise<StageOutcome<O>> {
    const name = declaration.name(recipe, i);
    // A gated kind waits for its approval, which its stages then carry into their lineage.
    const gated = gates.holds(declaration.kind) ? await gates.pass(declaration.kind, upstream) : [];
    // So does a raise of the budget the stage waited for, or started under.
    const approvals = [...gated, ...(await budget.pass(name))];
    const placement = declaration.placement?.(recipe, i);
    const decisions = checks.decisionsFor(upstream as object);
    const runtime: StageRuntime = { ...runtimeOf(name, placement), ...(approvals.length > 0 && { approvals }), ...(decisions.length > 0 && { decisions }) };
    await waitForListedTurn(declaration, i); // before the pause check: a pause meanwhile holds it
    await condition(() => !paused);
    tracker.started(name, runtime.forced);
    budget.started(name);
    const parents = tracker.parentsOf(upstream as object);
    const args: [StageInput<S, U>] = [{ runtime, stage: name, index: i, slice: declaration.slice(recipe, i), upstream, parents }];
    // Its page in the UI: what it makes of what, its knobs and the stages it reads from.
    const description = declaration.describe?.(recipe, i);
    let outcome: StageOutcome<O>;
    try {
      outcome = await executeChild<(input: StageInput<S, U>) => Promise<StageOutcome<O>>>(declaration.workflow, {
        workflowId: tracker.workflowId(name),
        args,
        priority: runtime.priority,
        // What an operator filters on in the UI: `HalaCampaign = "…" AND HalaStage = "…"`.
        typedSearchAttributes: [
          { key: HalaCampaign, value: input.campaign_id },
          { key: HalaStage, value: name },
          { key: HalaRecipeHash, value: input.recipe_sha256 },
          { key: HalaModel, value: declaration.model(recipe, i) },
        ],
        memo: { campaign: input.campaign_id, stage: name, recipe: recipe.name },
        ...(description ? { staticSummary: description.summary, staticDetails: staticDetails(description, parents, workflowInfo().namespace) } : {}),
      });
      tracker.finished(name, outcome);
      budget.ended(name, { cached: outcome.cached, activities: outcome.activities, placement: placement ?? {} });
    } catch (err) {
      budget.ended(name);
      if (isCancellation(err)) tracker.cancelled(name);
      else tracker.failed(name, err);
      throw err;
    }
    // Its checks act before anything reads it: fail its branch, hold it at a gate, or choose for its readers.
    return checks.after(declaration.kind, name, outcome);
  }

  try {
    await recipeDag(recipe, stage, patched);
  } catch (err) {
    // Cancelled (hala cancel): the campaign ends cancelled, not failed; its stages were cancelled with it.
    if (isCancellation(err)) {
      state = 'cancelled';
      throw err;
    }
    // Every branch that could finish has: name each stage that failed, with its error.
    state = 'failed';
    const progress = snapshot(state);
    const failed = progress.stages.filter((s) => s.status === 'failed');
    // What did finish stays auditable (`hala lineage <campaign>`) once the history is gone.
    await writeSummary(progress);
    throw ApplicationFailure.create({
      type: 'CampaignFailed',
      message: `${failed.length} stage${failed.length === 1 ? '' : 's'} failed: ${failed.map((s) => `${s.stage} (${s.error_type ?? 'Error'}: ${s.error})`).join('; ')}`,
      nonRetryable: true,
    });
  }

  state = 'completed';
  const progress = snapshot(state);
  const report = await writeSummary(progress);
  return { campaign_id: input.campaign_id, progress, report_uri: report.uri };
}
