import { z } from 'zod';
import { GpuActivitySchemas } from './gpu-activities';
import { Progress } from './progress';
import { GpuActivities, DefaultQueues } from './queues';
import { NonRetryableErrors, RetryableErrors } from './errors';
import { Recipe } from './recipe';
import { ArtifactRef } from './artifact';

const toSchema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const pretty = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** file name -> JSON text, deterministic so that drift is a plain string comparison. */
export function renderJsonSchemas(): Record<string, string> {
  const activities: Record<string, unknown> = {};
  for (const [name, [input, output]] of Object.entries(GpuActivitySchemas)) {
    activities[name] = {
      queue_role: GpuActivities[name as keyof typeof GpuActivities],
      input: toSchema(input, 'input'),
      output: toSchema(output, 'output'),
    };
  }
  return {
    'activities.json': pretty({
      default_queues: DefaultQueues,
      errors: { non_retryable: Object.values(NonRetryableErrors), retryable: Object.values(RetryableErrors) },
      progress: toSchema(Progress, 'input'),
      artifact_ref: toSchema(ArtifactRef, 'output'),
      activities,
    }),
    'recipe.json': pretty(toSchema(Recipe, 'input')),
  };
}
