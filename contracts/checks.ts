// Recipe checks: predicates on a stage's metrics that act right after the stage, before anything
// reads what it made. `fail` stops the branch (the stage is recorded failed, CheckFailed), `hold`
// opens an approval gate with the figures (workflows/gates.ts), `choose` picks between candidates
// where the DAG has a choice (after compress-teacher: the FP8 artifact or the BF16 teacher). The
// campaign acts on them in workflows/checks.ts; the figures land in the progress and in lineage.
import { z } from 'zod';
import { type StageKind, StageKinds } from './stages';

const CheckName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes');

/** A bound: a number, or a fraction of the stage's figure in `hala plan` (its planned rows out). */
export const CheckBound = z.union([
  z.number(),
  z.strictObject({ of_plan: z.number().positive().describe("fraction of the stage's planned figure in `hala plan` (its rows out)") }),
]);
export type CheckBound = z.infer<typeof CheckBound>;

export const CheckAction = z.enum(['fail', 'hold', 'choose']);
export type CheckAction = z.infer<typeof CheckAction>;

export const Check = z.strictObject({
  name: CheckName.describe('what the progress, lineage and `hala approve <campaign> <name>` (for a hold) call it'),
  after: z.enum(StageKinds).describe('stage kind whose metrics it judges, right after each stage of that kind'),
  metric: z.string().min(1).describe('one of the metrics that stage reports (hala status shows them)'),
  at_least: CheckBound.optional().describe('passes when the metric is at least this'),
  at_most: CheckBound.optional().describe('passes when the metric is at most this'),
  action: CheckAction.describe(
    'on a miss: fail (the stage fails CheckFailed and its branch stops; its output stays cached), hold (an approval gate opens with the figures), ' +
      'choose (after compress-teacher: the bilingual corpus is built by the BF16 teacher instead of the FP8 one)',
  ),
});
export type Check = z.infer<typeof Check>;

/**
 * What the campaign knows of each kind's metrics before it runs: the names a check may judge (absent:
 * not knowable here, any name is taken), which of them `hala plan` has a figure for (`of_plan`), what a
 * hold keeps waiting, and whether a choice exists after it.
 */
interface Checkable {
  metrics?: readonly string[];
  /** Metric -> the planned row figure it compares with. */
  planned?: Partial<Record<string, 'rows_out'>>;
  /** The kind a hold after it keeps waiting (its first reader); none: nothing would wait. */
  holds?: StageKind;
  choose?: boolean;
}

export const CHECKABLE: Record<StageKind, Checkable> = {
  'compress-teacher': {
    metrics: ['chrf_drop', 'bf16_chrf', 'fp8_chrf', 'bf16_bleu', 'fp8_bleu', 'fp8_speedup', 'quantized_linear_layers'],
    holds: 'build-bilingual-corpus',
    choose: true,
  },
  'filter-opus': {
    metrics: ['read', 'kept', 'keep_rate', 'empty', 'identical', 'too_short', 'too_long', 'length_ratio', 'source_script', 'target_script', 'exact_duplicate', 'near_duplicate', 'source_language', 'target_language'],
    planned: { kept: 'rows_out' },
    holds: 'build-bilingual-corpus',
  },
  'build-bilingual-corpus': {
    metrics: ['pairs', 'examples', 'teacher_segments', 'teacher_generated_rows', 'teacher_cached_rows', 'teacher_duplicate_rows', 'teacher_untranslated', 'teacher_tokens', 'pairs_opus', 'pairs_open_orca', 'teacher_wrong_language', 'teacher_quarantined_rows', 'decontaminated'],
    planned: { pairs: 'rows_out' },
    holds: 'train-translator',
  },
  'train-translator': { metrics: ['steps', 'final_loss'], holds: 'evaluate-translator' },
  'evaluate-translator': { metrics: ['bleu', 'chrf', 'base_bleu', 'base_chrf', 'chrf_gain'], holds: 'translate-instructions' },
  'translate-instructions': { planned: { conversations: 'rows_out' }, holds: 'sft' },
  sft: { holds: 'merge' },
  merge: { holds: 'evaluate' },
  choose: { holds: 'evaluate' },
  evaluate: {},
};

/** The planned figures of each stage the campaign is given (cli/start-campaign.ts), for `of_plan` bounds. */
export const PlannedRows = z.record(z.string(), z.object({ rows_in: z.number().optional(), rows_out: z.number().optional() }));
export type PlannedRows = z.infer<typeof PlannedRows>;

/** A check as judged after one stage: the figures, what it decided and why; in the progress and in lineage. */
export const CheckReport = z.object({
  check: z.string(),
  stage: z.string(),
  metric: z.string(),
  /** The stage's figure; null when it reported none (a miss). */
  value: z.number().nullable(),
  /** The bounds as applied (an `of_plan` bound resolved against `plan`). */
  at_least: z.number().optional(),
  at_most: z.number().optional(),
  /** The stage's planned figure, when a bound is a fraction of it. */
  plan: z.number().optional(),
  passed: z.boolean(),
  action: CheckAction,
  /** The figures in one sentence: what the failure, the gate and `hala status` say. */
  message: z.string(),
  /** For `choose`: the candidate taken and the artifact or source it names. */
  chosen: z.object({ candidate: z.string(), uri: z.string() }).optional(),
  at: z.string(),
});
export type CheckReport = z.infer<typeof CheckReport>;

/** The rules across checks and the rest of the recipe, each naming the field to change (recipe-rules.ts runs them). */
export function checkChecks(checks: readonly Check[], gateNames: readonly string[], addIssue: (path: (string | number)[], message: string) => void): void {
  const seen = new Set<string>(gateNames);
  checks.forEach((c, i) => {
    const at = (field: string) => ['checks', i, field];
    if (seen.has(c.name)) addIssue(at('name'), `"${c.name}" is taken by another check or gate: \`hala approve\` names a hold by it, give it its own name`);
    seen.add(c.name);
    const known = CHECKABLE[c.after];
    if (known.metrics && !known.metrics.includes(c.metric) && !(c.metric in (known.planned ?? {}))) {
      addIssue(at('metric'), `"${c.metric}" is not a metric of ${c.after} (it reports ${known.metrics.join(', ')})`);
    }
    if (c.at_least === undefined && c.at_most === undefined) addIssue(['checks', i], 'needs a bound: at_least or at_most');
    for (const side of ['at_least', 'at_most'] as const) {
      const bound = c[side];
      if (typeof bound === 'object' && !known.planned?.[c.metric]) {
        const has = Object.keys(known.planned ?? {});
        addIssue(at(side), `of_plan compares with the stage's figure in \`hala plan\`, which ${c.after}'s ${c.metric} has none of (${has.length ? `of_plan applies to ${has.join(', ')}` : 'give a number'})`);
      }
    }
    if (c.action === 'choose' && !known.choose) {
      addIssue(at('action'), `choose needs a choice after the stage, and only compress-teacher has one (the FP8 or the BF16 teacher): use fail or hold after ${c.after}`);
    }
    if (c.action === 'hold' && !known.holds) addIssue(at('action'), `hold after ${c.after} would hold nothing (no stage reads it): use fail`);
  });
}

/** A bound as a number, or undefined when it is a fraction of a plan figure the campaign was not given. */
export function resolveBound(bound: CheckBound | undefined, plan: number | undefined): number | undefined {
  if (bound === undefined || typeof bound === 'number') return bound;
  return plan === undefined ? undefined : bound.of_plan * plan;
}

/** Judges one check against a stage's metrics and its planned rows; `at` is the time to record. */
export function judge(check: Check, stage: string, metrics: Record<string, number>, planned: PlannedRows[string] | undefined, at: string): CheckReport {
  const field = CHECKABLE[check.after].planned?.[check.metric];
  const plan = field ? planned?.[field] : undefined;
  const value = metrics[check.metric] ?? null;
  const lo = resolveBound(check.at_least, plan);
  const hi = resolveBound(check.at_most, plan);
  // A bound of the plan with no plan figure cannot be met: acting is safer than letting it through unseen.
  const unresolved = (check.at_least !== undefined && lo === undefined) || (check.at_most !== undefined && hi === undefined);
  const passed = value !== null && !unresolved && (lo === undefined || value >= lo) && (hi === undefined || value <= hi);
  const bounds = [lo !== undefined && `≥ ${fmt(lo)}`, hi !== undefined && `≤ ${fmt(hi)}`].filter(Boolean).join(' and ');
  const planText = typeof check.at_least === 'object' || typeof check.at_most === 'object' ? `, plan ${plan === undefined ? 'unknown (hala plan could not size the stage)' : fmt(plan)}` : '';
  const message =
    `check ${check.name}: ${stage} ${check.metric} = ${value === null ? 'not reported' : fmt(value)}, ` +
    `${passed ? 'within' : 'outside'} ${bounds || 'its bound'}${planText}`;
  return {
    check: check.name,
    stage,
    metric: check.metric,
    value,
    ...(lo !== undefined && { at_least: lo }),
    ...(hi !== undefined && { at_most: hi }),
    ...(plan !== undefined && { plan }),
    passed,
    action: check.action,
    message,
    at,
  };
}

/** What a judged check did, after its figures: for `hala status`, `watch`, `report` and the campaign's page in the UI. */
export function checkOutcome(c: CheckReport, campaignId: string): string {
  if (c.action === 'choose') return c.chosen ? `chose ${c.chosen.candidate}: ${c.chosen.uri}` : 'chose nothing';
  if (c.passed) return 'passed';
  return c.action === 'fail' ? `failed ${c.stage}: nothing that reads it started` : `holds until \`hala approve ${campaignId} ${c.check}\``;
}

export const checkLine = (c: CheckReport, campaignId: string) => `${c.message} → ${checkOutcome(c, campaignId)}`;

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(+n.toFixed(4)));

/**
 * The checks whose bound is a fraction of the plan (`of_plan`) but whose stage the plan could not size:
 * a campaign is not started with them (cli/start-campaign.ts), since they could only ever miss.
 */
export function unsizedChecks(checks: readonly Check[], planned: PlannedRows | undefined): Check[] {
  return checks.filter((c) => {
    const field = CHECKABLE[c.after].planned?.[c.metric];
    const relative = typeof c.at_least === 'object' || typeof c.at_most === 'object';
    return relative && (field === undefined || planned?.[c.after]?.[field] === undefined);
  });
}
