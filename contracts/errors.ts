/**
 * The closed set of failure types both languages raise (as ApplicationFailure `type`).
 * Bad input or config never heals by retrying. Preemption, a stalled runner and storage trouble
 * are transient; out of memory is retried at half the batch. A runner that crashed or raised
 * something unknown (`RunnerFailed`) is probably a bug: it is retried only `retries.runner_failed`
 * times in all (recipe knob), then stops with the exception's own message.
 */
export const NonRetryableErrors = {
  BadRecipe: 'BadRecipe',
  BadInput: 'BadInput',
  ArtifactCorrupt: 'ArtifactCorrupt',
} as const;

export const RetryableErrors = {
  Preempted: 'Preempted',
  OutOfMemory: 'OutOfMemory',
  StorageUnavailable: 'StorageUnavailable',
  Stalled: 'Stalled',
  RunnerFailed: 'RunnerFailed',
  /** An operator paused the activity (`hala steer ... pause`): it checkpointed; unpaused, it resumes there. */
  Paused: 'Paused',
} as const;

export type HalaErrorType =
  | (typeof NonRetryableErrors)[keyof typeof NonRetryableErrors]
  | (typeof RetryableErrors)[keyof typeof RetryableErrors];

export const nonRetryableErrorTypes: string[] = Object.values(NonRetryableErrors);
