// The DataConverter that Workers and Clients use when a codec key is configured (see codec-key.ts).
//   Worker.create({ ..., dataConverter: dataConverterFromEnv() })
//   new Client({ connection, dataConverter: dataConverterFromEnv() })
// Payload codecs run in the worker process, not the workflow sandbox, so no workflow code changes.
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { loadCodecKeys } from './codec-key';
import { EncryptionCodec } from './payload-codec';

/**
 * Encrypting converter, or undefined when no key is set (Temporal's default converter applies).
 * Failure messages and stack traces are encrypted too: a runner's error may quote a corpus row or
 * the tail of its stderr, and both would otherwise sit in history in clear.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = loadCodecKeys(env);
  return (
    keys && {
      payloadCodecs: [new EncryptionCodec(keys)],
      failureConverterPath: path.join(__dirname, 'failure-converter.ts'),
    }
  );
}
