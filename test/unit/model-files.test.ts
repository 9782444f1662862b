// Model files checked when a stage opens: a tiny-world model copied to a temporary mirror, then
// truncated or garbled the ways a download or a disk really breaks it. Each is refused by openStage
// at once (BadInput, not retried), naming the recipe field, the file and the fix; the untouched copy
// passes.
import { cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStageCacheActivities } from '../../activities/stage-cache';
import { FileStore } from '../../activities/store';
import type { OpenStageInput, OpenStageOutput } from '../../contracts/campaign';

const WORLD = path.join(__dirname, '../../fixtures/tiny-world/hub');
const URI = 'hf://hala-tiny/lfm2-350m';
const FIELD = 'stages.sft.students[1].base';
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

let dir: string;
let model: string;
let stageCache: ReturnType<typeof createStageCacheActivities>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hala-model-files-'));
  model = path.join(dir, 'mirror', 'hala-tiny', 'lfm2-350m');
  await cp(path.join(WORLD, 'hala-tiny', 'lfm2-350m'), model, { recursive: true });
  stageCache = createStageCacheActivities({ store: new FileStore(`file://${dir}/store`), hubMirror: path.join(dir, 'mirror') });
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const open = (uri = URI) => {
  const input: OpenStageInput = { store_root: `file://${dir}/store`, stage: 'sft-hala-700m', config: {}, inputs: [uri], checks: [{ uri, field: FIELD, kind: 'model' }], runner_version: '0', forced: false };
  return env.run(stageCache.openStage, input) as Promise<OpenStageOutput>;
};
async function refusal(): Promise<ApplicationFailure> {
  const error = await open().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure).toMatchObject({ type: 'BadInput', nonRetryable: true });
  expect(failure.message).toContain(`openStage sft-hala-700m: ${FIELD} = ${URI}: `);
  return failure;
}
const weights = () => path.join(model, 'model.safetensors');
/** The 8-byte little-endian header length and the JSON header of the copied model. */
async function header(): Promise<{ bytes: Buffer; length: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> }> {
  const bytes = await readFile(weights());
  const length = Number(bytes.readBigUInt64LE(0));
  return { bytes, length, json: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) };
}

describe('model files at stage open', () => {
  it('a whole tiny-world model opens', async () => {
    await expect(open()).resolves.toMatchObject({ sources: [{ uri: URI }] });
  });

  it('a safetensors file truncated by one byte is refused, naming the field, the file and the fix', async () => {
    const { bytes } = await header();
    await truncate(weights(), bytes.length - 1);
    const f = await refusal();
    expect(f.message).toContain(`${weights()} is ${bytes.length - 1} bytes, but its header places tensor data up to byte ${bytes.length}`);
    expect(f.message).toMatch(/fetch the model again/);
  });

  it('a file cut inside its header, a garbled header and a header longer than the file are refused', async () => {
    const { bytes, length } = await header();
    await truncate(weights(), 8 + Math.floor(length / 2));
    expect((await refusal()).message).toMatch(/header of \d+ bytes runs past the end of the file/);

    const garbled = Buffer.from(bytes);
    garbled.write('#', 8); // the header's opening brace overwritten
    await writeFile(weights(), garbled);
    expect((await refusal()).message).toMatch(/model\.safetensors has a header that is not JSON/);

    await writeFile(weights(), Buffer.from('not safe'));
    expect((await refusal()).message).toMatch(/model\.safetensors has a header of \d+ bytes; the file is 8 bytes/);
  });

  it('a tensor whose data_offsets lie outside the data or disagree with its shape is refused, naming the tensor', async () => {
    const { bytes, length, json } = await header();
    const name = Object.keys(json).find((k) => k !== '__metadata__')!;
    const t = json[name]!;
    const rewrite = async (h: object) => {
      // Same header length (padded with spaces, as the format allows) so only the offsets change.
      const text = Buffer.alloc(length, ' ');
      text.write(JSON.stringify(h));
      await writeFile(weights(), Buffer.concat([bytes.subarray(0, 8), text, bytes.subarray(8 + length)]));
    };
    await rewrite({ ...json, [name]: { ...t, data_offsets: [t.data_offsets[0], t.data_offsets[1] - 4] } });
    expect((await refusal()).message).toContain(`tensor ${name} of shape [${t.shape.join(', ')}] ${t.dtype} needs`);
  });

  it('config.json that does not parse is refused', async () => {
    await writeFile(path.join(model, 'config.json'), '{"model_type": "lfm2",');
    expect((await refusal()).message).toMatch(/config\.json is not JSON \(.*\): restore the model's config\.json/);
  });

  it('a sharded model: the index must parse and name shards that exist and hold its tensors', async () => {
    const { json } = await header();
    const names = Object.keys(json).filter((k) => k !== '__metadata__');
    const index = (weightMap: Record<string, string>) => writeFile(path.join(model, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    await index(Object.fromEntries(names.map((n) => [n, 'model.safetensors'])));
    await expect(open()).resolves.toBeDefined();

    await index({ ...Object.fromEntries(names.map((n) => [n, 'model.safetensors'])), 'lm_head.weight': 'model-00002-of-00002.safetensors' });
    expect((await refusal()).message).toContain('model.safetensors.index.json names model-00002-of-00002.safetensors, which is missing');

    await index({ 'not.a.tensor': 'model.safetensors' });
    expect((await refusal()).message).toContain('model.safetensors.index.json places not.a.tensor in model.safetensors, whose header has no such tensor');

    await writeFile(path.join(model, 'model.safetensors.index.json'), '{"weight_map": ');
    expect((await refusal()).message).toMatch(/model\.safetensors\.index\.json is not JSON/);
  });

  it('a model directory given by file:// is checked the same way', async () => {
    await mkdir(path.join(dir, 'copy'));
    await cp(model, path.join(dir, 'copy', 'm'), { recursive: true });
    await truncate(path.join(dir, 'copy', 'm', 'model.safetensors'), 100);
    const error = await open(`file://${dir}/copy/m`).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ type: 'BadInput', nonRetryable: true });
    expect((error as Error).message).toContain(`${FIELD} = file://${dir}/copy/m: ${dir}/copy/m/model.safetensors`);
  });
});
