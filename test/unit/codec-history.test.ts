// With the codec configured, a secret passed through a workflow never appears in its history as the
// server stores it (read with the temporal CLI, no key), yet a client holding the key reads it back.
// A twin run without the codec proves the history scan would have found the secret.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../contracts/codec-vectors.json';
import { dataConverterFromEnv } from '../../security/data-converter';
import { venvBin } from '../../platform/python-env';
import type { codecEcho, codecFailure } from '../support/codec-echo-workflow';

const secret = 'secret corpus row';
const activities = {
  echo: async (text: string) => text,
  fail: async (text: string): Promise<string> => {
    throw new Error(`bad row: ${text}`);
  },
};

/** True if the secret occurs in any string of the JSON, as is or inside base64 (payload data is base64). */
function containsSecret(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(secret) || Buffer.from(value, 'base64').toString('latin1').includes(secret);
  if (value && typeof value === 'object') return Object.values(value).some(containsSecret);
  return false;
}

describe('payload encryption in workflow history', () => {
  let env: TestWorkflowEnvironment;
  let converter: DataConverter;
  const workers: Worker[] = [];
  let running: Promise<void>[] = [];

  beforeAll(async () => {
    converter = dataConverterFromEnv({ HALA_CODEC_KEY: vectors.key.base64 })!;
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: venvBin('temporal') }, ip: '127.0.0.1' },
      client: { dataConverter: converter },
    });
    const quiet = () => undefined;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, '../support/codec-echo-workflow.ts'),
      logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error },
    });
    const common = { connection: env.nativeConnection, workflowBundle, activities };
    workers.push(await Worker.create({ ...common, taskQueue: 'codec-encrypted', dataConverter: converter }));
    workers.push(await Worker.create({ ...common, taskQueue: 'codec-plain' }));
    running = workers.map((w) => w.run());
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env?.teardown();
  });

  async function historyJson(workflowId: string): Promise<unknown> {
    const { stdout } = await promisify(execFile)(venvBin('temporal'), ['workflow', 'show', '-w', workflowId, '--address', env.address, '--output', 'json'], { cwd: path.join(__dirname, '..', '..') });
    return JSON.parse(stdout);
  }

  it('stores only ciphertext, and a client with the key reads the result', async () => {
    const result = await env.client.workflow.execute<typeof codecEcho>('codecEcho', { taskQueue: 'codec-encrypted', workflowId: 'codec-encrypted', args: [secret] });
    expect(result).toBe(`echo: ${secret}`);

    const history = await historyJson('codec-encrypted');
    expect(JSON.stringify(history)).toContain(Buffer.from('binary/encrypted').toString('base64'));
    expect(containsSecret(history)).toBe(false);

    // A client without the key sees the encrypted payload and cannot turn it into the result.
    await expect(new Client({ connection: env.connection }).workflow.getHandle('codec-encrypted').result()).rejects.toThrow(/binary\/encrypted/);
  });

  it('encrypts failure messages too, and a client with the key reads them', async () => {
    const result = await env.client.workflow.execute<typeof codecFailure>('codecFailure', { taskQueue: 'codec-encrypted', workflowId: 'codec-failure', args: [secret] });
    expect(result).toBe(`caught: bad row: ${secret}`);
    const history = await historyJson('codec-failure');
    expect(JSON.stringify(history)).toContain('Encoded failure'); // the message placeholder Temporal shows without the key
    expect(containsSecret(history)).toBe(false);
  });

  it('control: without the codec the same scan finds the secret', async () => {
    const plainClient = new Client({ connection: env.connection });
    await plainClient.workflow.execute<typeof codecEcho>('codecEcho', { taskQueue: 'codec-plain', workflowId: 'codec-plain', args: [secret] });
    expect(containsSecret(await historyJson('codec-plain'))).toBe(true);
  });
});
