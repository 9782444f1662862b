// Benchmarks print figures, not worker state changes: the SDK's runtime logs warnings and errors only.
import { DefaultLogger, Runtime } from '@temporalio/worker';

export function installQuietRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
