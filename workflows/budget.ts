// The recipe's budget while the campaign runs: spend is measured from finished stages (each stage's
// GPU activities priced on the pools it was placed on, as `hala report` prices them) and projected
// with the plan's figures of the stages running now. Once the spend reaches a cap, new stages wait
// here until the `raise-budget` update lifts it; running stages are never stopped. A raise travels
// with the stages that start after it into their manifests and lineage, as a gate's approval does.
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { BUDGET_GATE, type Budget, type BudgetCaps, type BudgetReport, type PlannedSpend, type RaiseBudgetInput } from '../contracts/budget';
import type { Approval } from '../contracts/gates';
import { priceActivities } from '../contracts/gpu-cost';
import type { ActivitySummary } from '../contracts/lineage';
import type { Placement } from '../contracts/placement';
import type { CurrentDetails } from './current-details';
import { raiseBudgetUpdate } from './definitions';

const MEASURES = ['cost_usd', 'gpu_hours'] as const;

export class CampaignBudget {
  private caps: BudgetCaps;
  private readonly spent = { cost_usd: 0, gpu_hours: 0, unpriced_gpu_hours: 0 };
  private readonly running = new Set<string>();
  private readonly held = new Set<string>();
  private readonly raises: Approval[] = [];

  constructor(
    private readonly budget: Budget,
    private readonly planned: PlannedSpend,
    private readonly details: CurrentDetails,
  ) {
    this.caps = { ...(budget?.cost_usd !== undefined && { cost_usd: budget.cost_usd }), ...(budget?.gpu_hours !== undefined && { gpu_hours: budget.gpu_hours }) };
  }

  /** Registers `raise-budget`; a recipe without a budget gets one whose validator refuses every raise. */
  register(): void {
    setHandler(raiseBudgetUpdate, (input) => this.raise(input), { validator: (input) => this.validate(input) });
  }

  /** Waits while the spend is at a cap (never without a budget: no cap); returns the raises so far, which the stage carries into its lineage. */
  async pass(stage: string): Promise<Approval[]> {
    if (this.atCap()) {
      this.held.add(stage);
      this.show();
      await condition(() => !this.atCap());
      this.held.delete(stage);
      this.show();
    }
    return [...this.raises];
  }

  started(stage: string): void {
    if (!this.budget) return;
    this.running.add(stage);
    this.show();
  }

  /** A stage ended: its GPU work is spent when it ran here (a cached stage was paid for by the campaign that ran it). */
  ended(stage: string, work?: { cached: boolean; activities?: ActivitySummary[]; placement: Placement }): void {
    if (!this.budget) return;
    this.running.delete(stage);
    if (work && !work.cached) {
      const priced = priceActivities(work.activities ?? [], work.placement);
      this.spent.cost_usd += priced.cost;
      this.spent.gpu_hours += priced.gpu_seconds / 3600;
      this.spent.unpriced_gpu_hours += priced.unpriced_gpu_seconds / 3600;
    }
    this.show();
  }

  /** The budget for the progress query: `{}` without one, so the progress is as before. */
  report(): { budget?: BudgetReport } {
    if (!this.budget) return {};
    const projected = { cost_usd: this.spent.cost_usd, gpu_hours: this.spent.gpu_hours };
    for (const stage of this.running) {
      projected.cost_usd += this.planned[stage]?.cost_usd ?? 0;
      projected.gpu_hours += this.planned[stage]?.gpu_hours ?? 0;
    }
    const warned = MEASURES.some((m) => this.caps[m] !== undefined && projected[m] >= this.budget!.warn_at * this.caps[m]!);
    return {
      budget: {
        caps: { ...this.caps },
        warn_at: this.budget.warn_at,
        spent: { cost_usd: this.spent.cost_usd, gpu_hours: this.spent.gpu_hours },
        projected,
        unpriced_gpu_hours: this.spent.unpriced_gpu_hours,
        state: this.atCap() ? 'held' : warned ? 'warning' : 'under',
        held_stages: [...this.held],
        raises: [...this.raises],
      },
    };
  }

  private atCap(): boolean {
    return MEASURES.some((m) => this.caps[m] !== undefined && this.spent[m] >= this.caps[m]!);
  }

  /** The UI's line: spend against the caps, and while stages are held, how to raise them. */
  private show(): void {
    const b = this.report().budget!;
    const figure = (m: (typeof MEASURES)[number], label: string) =>
      b.caps[m] === undefined ? '' : `${label} ${b.spent[m].toFixed(2)} spent of ${b.caps[m]} (projected ${b.projected[m].toFixed(2)})`;
    const line = `Budget: ${[figure('cost_usd', 'cost'), figure('gpu_hours', 'GPU-hours')].filter(Boolean).join(', ')}`;
    const id = workflowInfo().workflowId;
    const state =
      b.state === 'held'
        ? `**Held at budget**: ${b.held_stages.join(', ') || 'new stages'} wait; \`npx hala approve ${id} ${BUDGET_GATE} --cost-usd N --gpu-hours N\` raises it.`
        : b.state === 'warning'
          ? `**Budget warning**: the projected spend is past ${Math.round(b.warn_at * 100)}% of a cap.`
          : '';
    this.details.set('budget', [line, state].filter(Boolean).join('\n\n'));
  }

  /** Throws (refusing the update, changing nothing) with a sentence that says why and what to do. */
  private validate(input: RaiseBudgetInput): void {
    const id = workflowInfo().workflowId;
    if (!this.budget) throw new Error(`campaign ${id} has no budget: there is nothing to raise`);
    if (typeof input?.by !== 'string' || input.by.trim() === '') throw new Error(`a raise names who raises it: pass --by <name> (got ${JSON.stringify(input?.by ?? null)})`);
    const given = MEASURES.filter((m) => input[m] !== undefined);
    if (given.length === 0) throw new Error('a raise names a new cap: pass --cost-usd <N>, --gpu-hours <N> or both');
    for (const m of given) {
      const cap = this.caps[m];
      if (typeof input[m] !== 'number' || !Number.isFinite(input[m])) throw new Error(`--${m.replace('_', '-')} must be a number (got ${JSON.stringify(input[m])})`);
      if (cap === undefined) throw new Error(`the budget of ${id} sets no ${m} cap, so there is none to raise (its caps: ${JSON.stringify(this.caps)})`);
      if (input[m]! <= cap) throw new Error(`a raise sets a cap above the current one: budget ${m} is ${cap}, got ${input[m]}`);
    }
  }

  private raise(input: RaiseBudgetInput): Approval {
    for (const m of MEASURES) if (input[m] !== undefined) this.caps[m] = input[m];
    const approval: Approval = {
      gate: BUDGET_GATE,
      by: input.by.trim(),
      at: new Date().toISOString(),
      ...(input.note ? { note: input.note } : {}),
      budget: { ...this.caps },
    };
    this.raises.push(approval);
    this.show();
    return approval;
  }
}
