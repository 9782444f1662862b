// The workflow bench/orchestration.ts times: `n` no-op activities one after the other, so every gap
// in its history is Temporal's and the SDK's dispatch, never work.
import { proxyActivities } from '@temporalio/workflow';

export interface NoopActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });

export async function noopChain(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await noop();
}
