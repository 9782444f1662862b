import { ApplicationFailure } from '@temporalio/activity';
import type { z } from 'zod';

/** Parses an activity payload; every problem becomes one line naming its path (non-retryable). */
export function parseOrBadInput<S extends z.ZodType>(schema: S, raw: unknown, activity: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${[activity, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(lines.join('\n'), 'BadInput');
}
