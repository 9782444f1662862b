// The recipe's checks acting in the campaign (contracts/checks.ts has their shape and judging): each
// is judged right after each stage of its kind, before the stage's outcome is handed to its readers.
// `fail` records the stage failed (CheckFailed) and stops its branch, its output staying cached, so a
// rerun with a relaxed check costs nothing; `hold` waits at the check's approval gate; `choose` after
// compress-teacher records which teacher the bilingual corpus is built by, and the stages that read
// the chosen one carry the decision into their manifests and lineage.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef } from '../contracts/artifact';
import { checkLine, type CheckReport, judge, type PlannedRows } from '../contracts/checks';
import type { Recipe } from '../contracts/recipe';
import type { StageKind } from '../contracts/stages';
import type { CurrentDetails } from './current-details';
import type { Gates } from './gates';
import type { StageOutcome } from './stages/declaration';
import type { CompressTeacherResult } from './stages/compress-teacher';

/** The candidates of the choice after compress-teacher: its FP8 artifact, or the recipe's BF16 teacher. */
export const TEACHER_CANDIDATES = { passed: 'fp8', missed: 'bf16' } as const;

export class CampaignChecks {
  private readonly reports: CheckReport[] = [];

  constructor(
    private readonly recipe: Recipe,
    private readonly planned: PlannedRows,
    private readonly gates: Gates,
    /** Records the stage failed with the check's failure (the stage tracker). */
    private readonly failed: (stage: string, err: unknown) => void,
    private readonly details: CurrentDetails,
  ) {}

  /**
   * Judges the checks after `kind` on the stage's outcome and acts: throws CheckFailed (after recording
   * the stage failed), waits at a hold's gate, or returns the outcome with the choice its readers take.
   */
  async after<O>(kind: StageKind, stage: string, outcome: StageOutcome<O>): Promise<StageOutcome<O>> {
    let chosen = outcome;
    for (const check of this.recipe.checks.filter((c) => c.after === kind)) {
      const report = judge(check, stage, outcome.metrics, this.planned[stage], new Date().toISOString());
      if (check.action === 'choose') {
        const withChoice = { ...report, chosen: this.teacherChoice(report.passed, outcome as unknown as StageOutcome<CompressTeacherResult>) };
        this.record(withChoice);
        chosen = { ...chosen, choice: withChoice };
        continue;
      }
      this.record(report);
      if (report.passed) {
        if (check.action === 'hold') this.gates.clearCheck(check.name);
        continue;
      }
      if (check.action === 'fail') {
        const err = ApplicationFailure.create({
          type: 'CheckFailed',
          message: `${report.message}: ${stage} failed its check, nothing that reads it starts (its output stays cached: relax the check in the recipe and run again)`,
          nonRetryable: true,
          details: [report],
        });
        this.failed(stage, err);
        throw err;
      }
      await this.gates.holdCheck(report, outcome.artifacts.filter((a) => a.kind === 'dataset'));
    }
    return chosen;
  }

  /** Kept for the progress; a choice or a miss is also said on the campaign's page in the UI. */
  private record(report: CheckReport): void {
    this.reports.push(report);
    const id = workflowInfo().workflowId;
    const shown = this.reports.filter((r) => r.action === 'choose' || !r.passed);
    this.details.set('checks', shown.map((r) => `**Check ${r.check}**: ${checkLine(r, id)}`).join('\n\n'));
  }

  /** The decisions that chose an artifact `upstream` hands a stage: carried into its manifest and lineage. */
  decisionsFor(upstream: object): CheckReport[] {
    const uris = new Set(Object.values(upstream).map((v: unknown) => (v as { uri?: unknown } | null)?.uri));
    return this.reports.filter((r) => r.chosen && uris.has(r.chosen.uri));
  }

  /** The checks for the progress query: `{}` when the recipe declares none, so its progress is as before. */
  report(): { checks?: CheckReport[] } {
    return this.recipe.checks.length === 0 ? {} : { checks: this.reports };
  }

  private teacherChoice(fp8Passed: boolean, outcome: StageOutcome<CompressTeacherResult>): CheckReport['chosen'] {
    return fp8Passed
      ? { candidate: TEACHER_CANDIDATES.passed, uri: outcome.output.compressed.model.uri }
      : { candidate: TEACHER_CANDIDATES.missed, uri: this.recipe.inputs.teacher };
  }
}

/** A model a stage reads: an upstream artifact, or a raw source named with its recipe field. */
export type ModelInput = ArtifactRef | { uri: string; field: string };

/**
 * The teacher the bilingual corpus is built by: compress-teacher's FP8 artifact, unless a `choose`
 * check after it chose the recipe's BF16 teacher (its input then changes, and so does the key).
 */
export function chosenTeacher(recipe: Recipe, teacher: StageOutcome<CompressTeacherResult>): ModelInput {
  return teacher.choice?.chosen?.candidate === TEACHER_CANDIDATES.missed ? { uri: recipe.inputs.teacher, field: 'inputs.teacher' } : teacher.output.compressed.model;
}
