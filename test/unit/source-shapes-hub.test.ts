// Shape checks of hf:// sources read from the hub itself: judged by the file list the hub gives for
// the commit the stage resolved (its revision API's `siblings`), with nothing downloaded. The hub
// cannot be reached here: a stand-in answers through the same fetch interface.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHubLookup, type HubFetch } from '../../activities/hub-revision-lookup';
import { checkSourceShape } from '../../activities/source-shapes';
import { createStore } from '../../activities/store';
import type { SourceCheck } from '../../contracts/campaign';

const COMMIT = 'c'.repeat(40);
const store = createStore(`file://${mkdtempSync(path.join(tmpdir(), 'hala-shapes-'))}`);

/** A hub whose every repo holds `files` at COMMIT; it records the URLs asked. */
function hubHolding(files: string[]) {
  const asked: string[] = [];
  const fetch: HubFetch = async (url) => {
    asked.push(url);
    return { ok: true, status: 200, json: async () => ({ sha: COMMIT, siblings: files.map((rfilename) => ({ rfilename })) }) };
  };
  return { hub: createHubLookup({ fetch, hubEndpoint: 'https://hub.test' }), asked };
}

const check = (uri: string, kind: SourceCheck['kind'], field = 'inputs.teacher'): SourceCheck => ({ uri, kind, field });
const shapeOf = (files: string[], c: SourceCheck) => checkSourceShape(c, { store, mirror: undefined, hub: hubHolding(files).hub }, COMMIT);

describe('shape of hf:// sources from the hub file list', () => {
  const model = ['.gitattributes', 'README.md', 'config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'];

  it('accepts a model repo with config.json and weights, and a split named by a glob over parquet shards', async () => {
    await expect(shapeOf(model, check('hf://CohereLabs/command-a', 'model'))).resolves.toBeUndefined();
    const opus = ['README.md', 'en-ar/train-00000-of-00002.parquet', 'en-ar/train-00001-of-00002.parquet', 'en-ar/test-00000-of-00001.parquet'];
    await expect(shapeOf(opus, check('hf://datasets/org/opus/en-ar/train-*.parquet', 'dataset', 'inputs.opus'))).resolves.toBeUndefined();
    await expect(shapeOf(opus, check('hf://datasets/org/opus/en-ar', 'dataset', 'inputs.opus'))).resolves.toBeUndefined();
  });

  it('refuses a repo without weights, a file given as a model, and says which field and commit', async () => {
    await expect(shapeOf(['README.md', 'config.json'], check('hf://org/empty', 'model'))).rejects.toMatchObject({
      halaType: 'BadInput',
      message: expect.stringMatching(/^inputs\.teacher = hf:\/\/org\/empty has config\.json but no weights .*pin one that does \(the hub's files at commit cccccccccccc\)$/),
    });
    await expect(shapeOf(model, check('hf://org/m/config.json', 'model'))).rejects.toThrow(/inputs\.teacher = hf:\/\/org\/m\/config\.json is a file, not a model directory/);
    await expect(shapeOf(['README.md'], check('hf://org/docs', 'model'))).rejects.toThrow(/has no config\.json: it is not a model directory/);
  });

  it('refuses a dataset path that names no file, a non-parquet file, or a glob matching other files', async () => {
    const files = ['data/train.jsonl', 'data/test.parquet', 'data/train-00000.parquet', 'data/train-00000.json'];
    const opus = (p: string) => check(`hf://datasets/org/d/${p}`, 'dataset', 'inputs.opus');
    await expect(shapeOf(files, opus('data/train.jsonl'))).rejects.toThrow(/inputs\.opus = .*data\/train\.jsonl is not a parquet file/);
    await expect(shapeOf(files, opus('data/valid-*.parquet'))).rejects.toThrow(/matches no file of the repo/);
    await expect(shapeOf(files, opus('data/train-*'))).rejects.toThrow(/matches data\/train-00000\.json, which is not a parquet file/);
    await expect(shapeOf(files, opus('dat'))).rejects.toThrow(/names no file or directory of the repo/);
  });

  it('asks for the commit the stage resolved, once per commit however many stages check it', async () => {
    const { hub, asked } = hubHolding(model);
    const deps = { store, mirror: undefined, hub };
    await checkSourceShape(check('hf://org/m', 'model'), deps, COMMIT);
    await checkSourceShape(check('hf://org/m', 'model'), deps, COMMIT);
    expect(asked).toEqual([`https://hub.test/api/models/org/m/revision/${COMMIT}`]);
    // A branch moves: it is asked each time.
    await checkSourceShape(check('hf://org/m', 'model'), deps);
    await checkSourceShape(check('hf://org/m', 'model'), deps);
    expect(asked.slice(1)).toEqual(['https://hub.test/api/models/org/m/revision/main', 'https://hub.test/api/models/org/m/revision/main']);
  });

  it('leaves the shape to the runners when the hub lists no files', async () => {
    const fetch: HubFetch = async () => ({ ok: true, status: 200, json: async () => ({ sha: COMMIT }) });
    await expect(checkSourceShape(check('hf://org/m', 'model'), { store, mirror: undefined, hub: createHubLookup({ fetch }) }, COMMIT)).resolves.toBeUndefined();
  });
});
