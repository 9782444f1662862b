// Approval gates (recipe `gates`): the campaign stops before the first stage of a gated kind, shows
// the approver a preview (the corpus funnel, sample rows of what the stage will read) and goes on once
// the `approve` update is accepted. The approval then travels with the released stages into their
// manifests and lineage records; it is in no stage key, since approving changes no output.
//
// A gate holds once per campaign run, even when the stages behind it would come from the cache: it is
// about what goes into the models and what gets spent, and that is asked of every run. It can only be
// approved once it waits, so every approval names the preview its approver saw.
//
// A recipe check with action `hold` (contracts/checks.ts) is a gate too, named as the check and
// before the stage that reads the checked one: it opens only when the check misses, with the check's
// figures in its preview (workflows/checks.ts), and a check that passes clears it.
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifact';
import type { StageReport } from '../contracts/campaign';
import type { Approval, ApproveInput, ApproveResult, Gate, GatePreview, GateReport } from '../contracts/gates';
import type { Recipe } from '../contracts/recipe';
import type { CpuActivityFns } from '../contracts/cpu-activity-fns';
import type { StageKind } from '../contracts/stages';
import type { CurrentDetails } from './current-details';
import { CHECKABLE, type CheckReport } from '../contracts/checks';
import { approveUpdate } from './definitions';

/** The stages whose row counts make the funnel: raw pairs to filtered, bilingual, translated rows. */
const FUNNEL_KINDS: readonly string[] = ['filter-opus', 'build-bilingual-corpus', 'translate-instructions'] satisfies StageKind[];

interface GateState {
  gate: Gate;
  preview?: GatePreview;
  /** The preview being prepared: the stages of one kind reach the gate together and share it. */
  preparing?: Promise<void>;
  approval?: Approval;
  /** A hold check's gate: it waits only once the check missed; `cleared` once it passed. */
  check?: boolean;
  cleared?: boolean;
}

export class Gates {
  private readonly gates: GateState[];

  constructor(
    private readonly recipe: Recipe,
    private readonly cpu: CpuActivityFns,
    private readonly stages: () => StageReport[],
    private readonly details: CurrentDetails,
  ) {
    this.gates = [
      ...recipe.gates.map((gate): GateState => ({ gate })),
      ...recipe.checks
        .filter((c) => c.action === 'hold')
        .map((c): GateState => ({ gate: { name: c.name, before: CHECKABLE[c.after].holds!, show: { samples: 5 } }, check: true })),
    ];
  }

  /** Registers the `approve` update; a recipe without gates gets one that refuses every approval. */
  register(): void {
    setHandler(approveUpdate, (input) => this.approve(input), { validator: (input) => this.validate(input) });
  }

  holds(kind: string): boolean {
    return this.gates.some((g) => g.gate.before === kind);
  }

  /** Waits until every gate before `kind` is approved (preparing its preview first); returns their approvals. */
  async pass(kind: string, upstream: unknown): Promise<Approval[]> {
    // A hold check's gate is judged right after the checked stage, whose readers come after it.
    const held = this.gates.filter((g) => g.gate.before === kind && !g.cleared && (!g.check || g.approval));
    await Promise.all(
      held.map(async (g) => {
        if (g.approval) return;
        g.preparing ??= this.prepare(g, upstream);
        await g.preparing;
        this.showWaiting();
        await condition(() => g.approval !== undefined);
        this.showWaiting();
      }),
    );
    return held.map((g) => g.approval!);
  }

  /** A hold check missed: its gate waits with the check's figures in its preview until approved; returns the approval. */
  async holdCheck(report: CheckReport, datasets: ArtifactRef[]): Promise<Approval> {
    const g = this.gates.find((s) => s.check && s.gate.name === report.check)!;
    // One gate per check: for a kind with a stage per student, the first miss shows its figures and one approval releases all.
    g.cleared = false;
    g.preparing ??= this.prepare(g, Object.fromEntries(datasets.map((d, i) => [i, d])), report);
    await g.preparing;
    this.showWaiting();
    await condition(() => g.approval !== undefined);
    this.showWaiting();
    return g.approval!;
  }

  /** A hold check passed: its gate holds nothing (and is left out of the progress). */
  clearCheck(name: string): void {
    const g = this.gates.find((s) => s.check && s.gate.name === name);
    if (g && !g.preview) g.cleared = true;
  }

  /** The campaign's page in the UI says which gates wait and how to release them; nothing once none waits. */
  private showWaiting(): void {
    const id = workflowInfo().workflowId;
    const waiting = this.gates.filter((g) => g.preview && !g.approval);
    this.details.set(
      'gates',
      waiting
        .map((g) => `**Waiting at gate ${g.gate.name}** before ${g.gate.before}: \`npx hala status ${id}\` shows its funnel and sample rows, \`npx hala approve ${id} ${g.gate.name}\` lets it go on.`)
        .join('\n\n'),
    );
  }

  /** The gates for the progress query: `{}` when the recipe declares none, so its progress is as before. */
  report(): { gates?: GateReport[] } {
    if (this.gates.length === 0) return {};
    return {
      gates: this.gates.filter((g) => !g.cleared).map(({ gate, preview, approval }) => ({
        name: gate.name,
        before: gate.before,
        state: approval ? 'approved' : preview ? 'waiting' : 'pending',
        ...(preview ? { preview } : {}),
        ...(approval ? { approval } : {}),
      })),
    };
  }

  private async prepare(g: GateState, upstream: unknown, check?: CheckReport): Promise<void> {
    const funnel = this.stages()
      .filter((s) => FUNNEL_KINDS.includes(s.kind) && (s.status === 'completed' || s.status === 'cached'))
      .map((s) => ({ stage: s.stage, kind: s.kind, metrics: s.metrics }));
    g.preview = await this.cpu.previewGate({
      gate: g.gate.name,
      before: g.gate.before,
      funnel,
      datasets: datasetsOf(upstream),
      samples: g.gate.show.samples,
      seed: this.recipe.seed,
      ...(check && { check }),
    });
  }

  /** Throws (refusing the update, leaving the campaign as it was) with a sentence that says why and what to do. */
  private validate(input: ApproveInput): void {
    const id = workflowInfo().workflowId;
    const declared = this.gates.map((g) => g.gate.name);
    if (declared.length === 0) throw new Error(`campaign ${id} declares no approval gates: there is nothing to approve`);
    const g = this.gates.find((s) => s.gate.name === input?.gate);
    if (!g) throw new Error(`no gate "${String(input?.gate)}" in campaign ${id} (declared: ${declared.join(', ')})`);
    if (typeof input.by !== 'string' || input.by.trim() === '') throw new Error(`an approval names its approver: pass --by <name> (got ${JSON.stringify(input.by ?? null)})`);
    if (g.approval) throw new Error(`gate ${g.gate.name} was already approved by ${g.approval.by} at ${g.approval.at}`);
    if (!g.preview) {
      throw new Error(`gate ${g.gate.name} is not reached yet: it waits before ${g.gate.before} with its preview, approve it then (hala status ${id} says when)`);
    }
  }

  private approve(input: ApproveInput): ApproveResult {
    const g = this.gates.find((s) => s.gate.name === input.gate)!;
    const preview = g.preview!;
    const approval = {
      gate: g.gate.name,
      by: input.by.trim(),
      at: new Date().toISOString(),
      ...(input.note ? { note: input.note } : {}),
      preview_sha256: preview.sha256,
    };
    g.approval = approval;
    return { approval, before: g.gate.before, preview };
  }
}

/** The dataset artifacts among a stage's upstream: what the held stage will read. */
function datasetsOf(upstream: unknown): ArtifactRef[] {
  if (upstream === null || typeof upstream !== 'object') return [];
  return Object.values(upstream as Record<string, unknown>).filter(
    (v): v is ArtifactRef => v !== null && typeof v === 'object' && (v as ArtifactRef).kind === 'dataset' && typeof (v as ArtifactRef).uri === 'string',
  );
}
