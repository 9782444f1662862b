/**
 * The closed set of failure types both languages raise (as ApplicationFailure `type`).
 * Bad input or config never heals by retrying; the others are transient.
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
} as const;

export type HalaErrorType =
  | (typeof NonRetryableErrors)[keyof typeof NonRetryableErrors]
  | (typeof RetryableErrors)[keyof typeof RetryableErrors];

export const nonRetryableErrorTypes: string[] = Object.values(NonRetryableErrors);
