// Test-only workflow for test/unit/codec-history.test.ts: carries a string through a workflow input,
// an activity input and result, and the workflow result, so every kind of payload lands in history.
import { proxyActivities } from '@temporalio/workflow';

export interface CodecEchoActivities {
  echo(text: string): Promise<string>;
  fail(text: string): Promise<string>;
}

const { echo, fail } = proxyActivities<CodecEchoActivities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });

export async function codecEcho(text: string): Promise<string> {
  return `echo: ${await echo(text)}`;
}

/** An activity failure whose message quotes the text, as a runner's error may quote a row. */
export async function codecFailure(text: string): Promise<string> {
  try {
    return await fail(text);
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    return `caught: ${cause?.message ?? (err as Error).message}`;
  }
}
