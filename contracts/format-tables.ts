import { z } from 'zod';

// The format tables: names of writing systems and of benchmark layouts, which are facts about
// scripts and datasets rather than about the recipe's language. They are the one place in the
// contracts where a particular language may be named (test/unit/language-neutral-code.test.ts).

export const Script = z
  .enum(['arabic', 'latin', 'cyrillic', 'devanagari', 'cjk', 'any'])
  .describe('writing system a side of a pair must mostly use (any = no check)');

/** Column layouts of benchmarks: the six OALL v2 tasks, and mmlu (cais/mmlu: question, subject,
 * choices, answer index), the layout translated MMLUs keep. */
export const BenchmarkFormat = z.enum([
  'alghafa',
  'arabic_mmlu',
  'exams',
  'madinah_qa',
  'aratrust',
  'arbmmlu_ht',
  'mmlu',
]);

/** The text columns of each benchmark layout that a leaked training row would repeat: the question
 * first, then context and options (decontamination reads them). */
export const BENCHMARK_TEXT_COLUMNS: Record<z.infer<typeof BenchmarkFormat>, string[]> = {
  alghafa: ['query', 'sol1', 'sol2', 'sol3', 'sol4', 'sol5'],
  arabic_mmlu: ['Question', 'Context', 'Option 1', 'Option 2', 'Option 3', 'Option 4', 'Option 5'],
  madinah_qa: ['Question', 'Context', 'Option 1', 'Option 2', 'Option 3', 'Option 4', 'Option 5'],
  exams: ['question', 'A', 'B', 'C', 'D'],
  aratrust: ['Question', 'A', 'B', 'C'],
  arbmmlu_ht: ['question', 'choices'],
  mmlu: ['question', 'choices'],
};
