// What a recipe's campaign will run, named from the declarations: for the campaign's progress, the
// CLI's checks and summary, and the lineage reader.
import type { Recipe } from '../../contracts/recipe';
import type { AnyStageDeclaration } from './declaration';
import { stageDeclarations } from './index';

export const declarationOf = (kind: string): AnyStageDeclaration | undefined => stageDeclarations.find((d) => d.kind === kind);

/** Every stage a recipe makes, with its kind, in campaign order. */
export function plannedStages(recipe: Recipe): { stage: string; kind: string }[] {
  return stageDeclarations.flatMap((d) => Array.from({ length: d.count(recipe) }, (_, i) => ({ stage: d.name(recipe, i), kind: d.kind })));
}

/** Every stage a recipe makes with the stages whose artifacts it reads (`after`): the campaign's DAG, from the declarations. */
export function stageGraph(recipe: Recipe): { stage: string; kind: string; after: string[] }[] {
  return stageDeclarations.flatMap((d) =>
    Array.from({ length: d.count(recipe) }, (_, i) => ({
      stage: d.name(recipe, i),
      kind: d.kind,
      after: Object.values<string>(d.upstream).map((kind) => {
        const parent = declarationOf(kind)!;
        // One stage of its kind, or the same student's.
        return parent.name(recipe, parent.count(recipe) === 1 ? 0 : i);
      }),
    })),
  );
}
