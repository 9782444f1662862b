// What a recipe's campaign will run, named from the declarations: for the campaign's progress, the
// CLI's checks and summary, and the lineage reader.
import type { Recipe } from '../../contracts/recipe';
import type { AnyStageDeclaration, StageDeclaration, StageOutcome } from './declaration';
import { stageDeclarations } from './index';
import { recipeDag, type RunStage } from '../recipe-dag';

export const declarationOf = (kind: string): AnyStageDeclaration | undefined => stageDeclarations.find((d) => d.kind === kind);

/** Every stage a recipe makes, with its kind, in campaign order. */
export function plannedStages(recipe: Recipe): { stage: string; kind: string }[] {
  return stageDeclarations.flatMap((d) => Array.from({ length: d.count(recipe) }, (_, i) => ({ stage: d.name(recipe, i), kind: d.kind })));
}

const PRODUCER = Symbol('the stage that made this artifact');

/** A stand-in for whatever a stage outputs: any field of it, however deep, names the stage. */
function madeBy(stage: string): unknown {
  return new Proxy({}, { get: (_, key) => (key === PRODUCER ? stage : madeBy(stage)) });
}

/**
 * Every stage a recipe makes with the stages whose artifacts it reads (`after`): the campaign's DAG,
 * found by running the recipe's own stage calls (workflows/recipe-dag.ts) with a stage that records
 * what it is handed instead of running anything.
 */
export async function stageGraph(recipe: Recipe): Promise<{ stage: string; kind: string; after: string[] }[]> {
  const graph: { stage: string; kind: string; after: string[] }[] = [];
  const record: RunStage = async <S, U, O>(declaration: StageDeclaration<S, U, O>, upstream: U, i = 0) => {
    const stage = declaration.name(recipe, i);
    const after = Object.values(upstream as object).map((artifact) => (artifact as Record<symbol, string>)[PRODUCER]!);
    graph.push({ stage, kind: declaration.kind, after: [...new Set(after)] });
    return { output: madeBy(stage) } as StageOutcome<O>;
  };
  await recipeDag(recipe, record);
  return graph;
}
