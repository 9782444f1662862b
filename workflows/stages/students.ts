import type { Recipe, Student } from '../../contracts/recipe';

/** One stage of each student kind per student, in recipe order. */
export const perStudent = {
  count: (r: Recipe) => r.stages.sft.students.length,
  student: (r: Recipe, i: number): Student => r.stages.sft.students[i]!,
};
