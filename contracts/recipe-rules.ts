// The rules across a recipe's fields, which no single field's schema can state: each names the
// field to change and how. Run by Recipe (recipe.ts) after every field has parsed.
import type { z } from 'zod';
import { BUDGET_GATE } from './budget';
import { checkChecks } from './checks';
import { classOf } from './placement';
import type { RecipeFields } from './recipe';
import { ROUTES, type Route } from './resources';
import { checkChoose } from './stages/choose';

export function checkRecipe(recipe: RecipeFields, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  recipe.inputs.instruction_sets.forEach((set, i) => {
    if ((set.format === 'columns') !== (set.columns !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['inputs', 'instruction_sets', i, 'columns'],
        message: set.format === 'columns' ? 'is required when format is columns ({user, assistant})' : `only applies to format columns (format is ${set.format})`,
      });
    }
    if (set.turns_column !== undefined && set.format !== 'sharegpt' && set.format !== 'messages') {
      ctx.addIssue({
        code: 'custom',
        path: ['inputs', 'instruction_sets', i, 'turns_column'],
        message: `only applies to the turn-list formats sharegpt and messages (format is ${set.format})`,
      });
    }
  });
  checkResources(recipe, ctx);
  const gates = new Set<string>();
  recipe.gates.forEach((g, i) => {
    if (gates.has(g.name)) ctx.addIssue({ code: 'custom', path: ['gates', i, 'name'], message: `duplicates gate "${g.name}": each gate needs its own name` });
    gates.add(g.name);
    if (g.name === BUDGET_GATE) ctx.addIssue({ code: 'custom', path: ['gates', i, 'name'], message: `"${BUDGET_GATE}" names the budget's raises (hala approve <campaign> budget): give the gate another name` });
  });
  checkChecks(recipe.checks, [...gates, BUDGET_GATE], (path, message) => ctx.addIssue({ code: 'custom', path, message }));
  const evaluate = recipe.stages.evaluate;
  if (evaluate.harness === 'lighteval') {
    // lighteval's leaderboard tasks are scored as the leaderboard scores them.
    const own = 'runs on harness own only: lighteval scores the leaderboard tasks as the leaderboard does (mcf, no chat template); set harness: own or remove it';
    if (evaluate.formulation !== 'mcf') ctx.addIssue({ code: 'custom', path: ['stages', 'evaluate', 'formulation'], message: `${evaluate.formulation} ${own}` });
    if (evaluate.chat_template) ctx.addIssue({ code: 'custom', path: ['stages', 'evaluate', 'chat_template'], message: own });
  }
  checkChoose(recipe.stages, ctx);
  recipe.stages.sft.students.forEach((s, i) => {
    if (seen.has(s.name)) {
      ctx.addIssue({ code: 'custom', path: ['stages', 'sft', 'students', i, 'name'], message: `duplicates student "${s.name}"` });
    }
    seen.add(s.name);
  });
}

/** Every route names a declared class, every student route a student, and each model fits the GPUs of its pool. */
function checkResources(recipe: RecipeFields, ctx: z.RefinementCtx): void {
  const { resources } = recipe;
  const declared = Object.keys(resources.classes);
  const known = (name: string | undefined, path: (string | number)[]) => {
    if (name !== undefined && !(name in resources.classes)) {
      ctx.addIssue({ code: 'custom', path: ['resources', ...path], message: `names class "${name}", which resources.classes does not declare (declared: ${declared.join(', ') || 'none'})` });
    }
  };
  for (const route of Object.keys(ROUTES) as Route[]) known(resources[route], [route]);
  const students = new Set(recipe.stages.sft.students.map((s) => s.name));
  for (const [student, name] of Object.entries(resources.students)) {
    if (!students.has(student)) ctx.addIssue({ code: 'custom', path: ['resources', 'students', student], message: `is not a student of stages.sft.students (${[...students].join(', ')})` });
    known(name, ['students', student]);
  }
  const training: [Route, { gpus: number }, (string | number)[], string | undefined][] = [
    ['train_translator', recipe.stages.train_translator, ['stages', 'train_translator', 'gpus'], undefined],
    ...recipe.stages.sft.students.map((s, i): [Route, { gpus: number }, (string | number)[], string] => ['sft', s, ['stages', 'sft', 'students', i, 'gpus'], s.name]),
  ];
  for (const [route, knobs, path, student] of training) {
    const pool = classOf(resources, route, student);
    if (pool && knobs.gpus > pool.gpus) {
      const where = student !== undefined && resources.students[student] ? `resources.students.${student}` : `resources.${route}`;
      ctx.addIssue({ code: 'custom', path, message: `is ${knobs.gpus}, but its class (${where}) has ${pool.gpus} GPU(s) per worker: lower gpus or route it to a class with at least ${knobs.gpus}` });
    }
  }
  for (const model of ['teacher', 'translator'] as const) {
    const tp = recipe.generation[model].tensor_parallel_size;
    const pool = classOf(resources, model);
    if (pool && tp > pool.gpus) {
      ctx.addIssue({ code: 'custom', path: ['generation', model, 'tensor_parallel_size'], message: `is ${tp}, but class "${resources[model]}" (resources.${model}) has ${pool.gpus} GPU(s) per worker: route the ${model} to a class with at least ${tp}` });
    }
  }
}
