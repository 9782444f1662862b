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

/** What a dry run tells of each stage it meets: the producer of each upstream artifact it is handed
 * (`producers`, keyed as its upstream), those stages once each (`after`) and the stand-ins it is
 * handed (`upstream`: any field of one, however deep, is another stand-in). */
export type StageVisit = (declaration: AnyStageDeclaration, i: number, stage: string, producers: Record<string, string>, after: string[], upstream: object) => void;

/**
 * Runs the recipe's own stage calls (workflows/recipe-dag.ts) with a stage that runs nothing: each
 * stage is visited, parents first, with the stage that made each artifact it is handed.
 */
export async function dryRun(recipe: Recipe, visit: StageVisit): Promise<void> {
  const record: RunStage = async <S, U, O>(declaration: StageDeclaration<S, U, O>, upstream: U, i = 0) => {
    const stage = declaration.name(recipe, i);
    const producers = Object.fromEntries(Object.entries(upstream as object).map(([key, artifact]) => [key, (artifact as Record<symbol, string>)[PRODUCER]!]));
    visit(declaration as AnyStageDeclaration, i, stage, producers, [...new Set(Object.values(producers))], upstream as object);
    return { output: madeBy(stage) } as StageOutcome<O>;
  };
  await recipeDag(recipe, record, () => true);
}

/** Every stage a recipe makes with the stages whose artifacts it reads (`after`): the campaign's DAG. */
export async function stageGraph(recipe: Recipe): Promise<{ stage: string; kind: string; after: string[] }[]> {
  const graph: { stage: string; kind: string; after: string[] }[] = [];
  await dryRun(recipe, (declaration, _i, stage, _producers, after) => graph.push({ stage, kind: declaration.kind, after }));
  return graph;
}
