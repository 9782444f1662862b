// `hala steer ... limits | move`: the UpdateActivityOptions request each builds, and the refusals.
// Checked against a dev server (server 1.32) by hand: the snake_case mask paths below are applied.
import { describe, expect, it } from 'vitest';
import type { Recipe } from '../../contracts/recipe';
import { optionsUpdate, queueOf } from '../../cli/steer-options';

describe('hala steer limits | move', () => {
  it('masks exactly the fields given', () => {
    expect(optionsUpdate({ heartbeatS: 42, retries: 7 })).toEqual({
      activityOptions: { heartbeatTimeout: { seconds: 42 }, retryPolicy: { maximumAttempts: 7 } },
      updateMask: { paths: ['heartbeat_timeout', 'retry_policy.maximum_attempts'] },
    });
    // The stall limit is the stage workflow's (a signal), not the server's: no UpdateActivityOptions for it alone.
    expect(optionsUpdate({ stallS: 600 })).toBeUndefined();
    expect(optionsUpdate({ queue: 'h200-pool' })).toEqual({ activityOptions: { taskQueue: { name: 'h200-pool' } }, updateMask: { paths: ['task_queue.name'] } });
  });

  it('refuses nothing to change and impossible limits', () => {
    expect(() => optionsUpdate({})).toThrow('nothing to change: give --heartbeat-s, --retries, --stall-s or --to');
    expect(() => optionsUpdate({ stallS: -1 })).toThrow('--stall-s must be > 0 (got -1)');
    expect(() => optionsUpdate({ heartbeatS: 0 })).toThrow('--heartbeat-s must be > 0 (got 0)');
    expect(() => optionsUpdate({ retries: 1.5 })).toThrow('--retries must be a whole number >= 1 (got 1.5)');
  });

  it("moves to a resource class's queue, or to a queue named as is without a recipe", () => {
    const recipe = { resources: { classes: { h200: { queue: 'gpu-h200' } } } } as unknown as Recipe;
    expect(queueOf('h200', recipe)).toBe('gpu-h200');
    expect(() => queueOf('h100', recipe)).toThrow('the recipe has no resource class h100: h200');
    expect(queueOf('gpu-h200', undefined)).toBe('gpu-h200');
  });
});
