// One workflow function serves every stage kind: the workflow bundle's default export, which
// Temporal runs for any workflow type the bundle exports no function for (a dynamic workflow). The
// type says which stage it is (`compress-teacher`, `student-sft`); its declaration is looked up by
// it, so a new stage needs no export line of its own.
import { workflowInfo } from '@temporalio/workflow';
import { CODE_VERSION } from '../contracts/version';
import { runStage } from './run-stage';
import type { AnyStageDeclaration, StageInput, StageOutcome } from './stages/declaration';
import { stageDeclarations } from './stages';

const byWorkflowType = new Map(stageDeclarations.map((d) => [d.workflow, d]));

/** The declaration a workflow type runs, or undefined for a type no stage has. */
export const declarationOfType = (type: string): AnyStageDeclaration | undefined => byWorkflowType.get(type);

export async function stageWorkflow(input: StageInput<unknown, unknown>): Promise<StageOutcome<unknown>> {
  const type = workflowInfo().workflowType;
  const declaration = declarationOfType(type);
  // A plain Error fails the workflow task, not the workflow: a stage started on another release
  // (whose types differ) stays open until a worker of its release serves it (release-guard.ts).
  if (!declaration) {
    throw new Error(`Hala Flow ${CODE_VERSION} runs no workflow of type "${type}" (started on another release?); its stage types are ${[...byWorkflowType.keys()].join(', ')}`);
  }
  return runStage(declaration, input);
}
