import { z } from 'zod';
import { EveryRoleActivityTable, GpuActivityTable, LossHistory } from './gpu-activities';
import { Progress } from './progress';
import { DefaultQueues } from './queues';
import { NonRetryableErrors, RetryableErrors } from './errors';
import { BenchmarkFormat, Recipe } from './recipe';
import { EvalFormulation } from './stages/evaluate';
import { TrainKnobs } from './stages/train-knobs';
import { TranslationCachePart } from './translation-cache';

const toSchema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const pretty = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** file name -> JSON text, deterministic so that drift is a plain string comparison. */
export function renderJsonSchemas(): Record<string, string> {
  const activities: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(GpuActivityTable)) {
    const { role, runner, start_to_close_s, heartbeat_s, retry } = row;
    activities[name] = {
      queue_role: role,
      runner,
      start_to_close_s,
      heartbeat_s,
      retry,
      input: toSchema(row.input, 'input'),
      output: toSchema(row.output, 'output'),
    };
  }
  const everyRole: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(EveryRoleActivityTable)) {
    everyRole[name] = { start_to_close_s: row.start_to_close_s, retry: row.retry, input: toSchema(row.input, 'input'), output: toSchema(row.output, 'output') };
  }
  return {
    'activities.json': pretty({
      default_queues: DefaultQueues,
      errors: { non_retryable: Object.values(NonRetryableErrors), retryable: Object.values(RetryableErrors) },
      progress: toSchema(Progress, 'input'),
      loss_history: toSchema(LossHistory, 'output'),
      // The pointer translate_shard writes for the translation cache (gpu-runners translation_cache.py).
      translation_cache_part: toSchema(TranslationCachePart, 'output'),
      // Lists the Python side implements one entry of each for, read from here and never retyped
      // there (gpu-runners/tests/test_contract_lists.py fails when the two sides differ). The SFT
      // knobs in output mode: every knob the recipe parser defaults is listed as required.
      train_knobs: toSchema(TrainKnobs, 'output'),
      benchmark_formats: BenchmarkFormat.options,
      evaluate_formulations: EvalFormulation.options,
      activities,
      every_role_activities: everyRole,
    }),
    'recipe.json': pretty(toSchema(Recipe, 'input')),
  };
}
