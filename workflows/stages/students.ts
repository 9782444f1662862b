import type { Recipe } from '../../contracts/recipe';
import type { Student } from '../../contracts/stages/train-knobs';

/** One stage of each student kind per student, in recipe order. */
export const perStudent = {
  count: (r: Recipe) => r.stages.sft.students.length,
  student: (r: Recipe, i: number): Student => r.stages.sft.students[i]!,
  names: (r: Recipe): string[] => r.stages.sft.students.map((s) => s.name),
};
