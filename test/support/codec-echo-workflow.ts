// Test-only workflow for test/unit/codec-history.test.ts: carries a string through a workflow input,
// an activity input and result, and the workflow result, so every kind of payload lands in history.
import { proxyActivities } from '@temporalio/workflow';

export interface CodecEchoActivities {
  echo(text: string): Promise<string>;
}

const { echo } = proxyActivities<CodecEchoActivities>({ startToCloseTimeout: '10s' });

export async function codecEcho(text: string): Promise<string> {
  return `echo: ${await echo(text)}`;
}
