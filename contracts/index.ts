export { ArtifactRef, ArtifactKind, StoreUri, SourceUri } from './artifact';
export { Progress } from './progress';
export { NonRetryableErrors, RetryableErrors, nonRetryableErrorTypes, type HalaErrorType } from './errors';
export { DefaultQueues, GpuActivities, type GpuActivityName, type QueueRole } from './queues';
export {
  Recipe,
  type RecipeInput,
  TrainKnobs,
  Student,
  GenerationKnobs,
  Benchmark,
  BenchmarkFormat,
  InstructionSet,
  InstructionFormat,
  ColumnMapping,
} from './recipe';
export * from './gpu-activities';
export * from './cpu-activities';
export * from './campaign';
export * from './lineage';
export { CODE_VERSION } from './version';
