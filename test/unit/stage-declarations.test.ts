// Stage declarations are the one place stage names come from: every kind is served as a workflow
// under the type it names, and the plan of a recipe lists each stage once, with its kind.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../../cli/recipe-file';
import { StageKinds } from '../../contracts/stages';
import * as workflows from '../../workflows';
import { declarationOfType } from '../../workflows/stage-workflow';
import { stageDeclarations } from '../../workflows/stages';
import { plannedStages } from '../../workflows/stages/plan';

describe('stage declarations', () => {
  it('each run as the workflow type they name, served by the default (dynamic) workflow of the bundle', () => {
    expect(typeof workflows.default).toBe('function');
    const exported = workflows as unknown as Record<string, unknown>;
    for (const d of stageDeclarations) {
      expect(declarationOfType(d.workflow), `${d.kind} -> ${d.workflow}`).toBe(d);
      // A named export of the same type would shadow the default: Temporal looks names up first.
      expect(exported[d.workflow], d.workflow).toBeUndefined();
    }
    expect(declarationOfType('campaign')).toBeUndefined();
    expect(new Set(stageDeclarations.map((d) => d.kind)).size).toBe(stageDeclarations.length);
    // The type names the stage: its kind, or `student-<kind>` for a student's (student-sft, not sft).
    for (const d of stageDeclarations) expect([d.kind, `student-${d.kind}`]).toContain(d.workflow);
    expect(stageDeclarations.find((d) => d.kind === 'sft')?.workflow).toBe('student-sft');
  });

  it('are the stage kinds of the one list (contracts/stages/index.ts), in its order', () => {
    expect(stageDeclarations.map((d) => d.kind)).toEqual([...StageKinds]);
  });

  it('plan every stage of a recipe once, in campaign order, three per student', () => {
    const loaded = loadRecipe(path.join(__dirname, '../../recipes/hala-paper.yaml'));
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    const planned = plannedStages(loaded.recipe);
    const students = loaded.recipe.stages.sft.students.map((s) => s.name);
    expect(planned.slice(0, 6).map((p) => p.stage)).toEqual([
      'compress-teacher', 'filter-opus', 'build-bilingual-corpus', 'train-translator', 'translate-instructions', 'evaluate-translator',
    ]);
    for (const kind of ['sft', 'merge', 'evaluate']) {
      expect(planned.filter((p) => p.kind === kind).map((p) => p.stage)).toEqual(students.map((s) => `${kind}-${s}`));
    }
    expect(new Set(planned.map((p) => p.stage)).size).toBe(planned.length);
  });
});
