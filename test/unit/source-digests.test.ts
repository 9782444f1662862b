// Digests of raw sources: files and model directories in a hub mirror or behind file://, with the
// per-(path, size, mtime) cache, and hub revisions through an injected fetch (never the network).
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSourceDigests } from '../../activities/source-digests';
import type { HubFetch } from '../../activities/hub-revision-lookup';
import { parseHubId } from '../../activities/hub-id';
import { pinHubRevision, splitHubRevision } from '../../contracts/hub-revision';
import { FileStore } from '../../activities/store';
import { pinSources } from '../../workflows/pin-sources';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

let dir: string;
let mirror: string;
let store: FileStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hala-sources-'));
  mirror = path.join(dir, 'mirror');
  store = new FileStore(`file://${dir}/store`);
  await mkdir(path.join(mirror, 'datasets', 'org', 'opus', 'en-ar'), { recursive: true });
  await writeFile(path.join(mirror, 'datasets', 'org', 'opus', 'en-ar', 'train.parquet'), 'pairs v1');
  await mkdir(path.join(mirror, 'org', 'teacher', 'sub'), { recursive: true });
  await writeFile(path.join(mirror, 'org', 'teacher', 'config.json'), '{}');
  await writeFile(path.join(mirror, 'org', 'teacher', 'sub', 'model.safetensors'), 'weights');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe('source digests from a hub mirror and file://', () => {
  it('hash a dataset file by its bytes and a model repo by the store manifest digest', async () => {
    const digest = createSourceDigests({ store, hubMirror: mirror });
    const file = await digest('hf://datasets/org/opus/en-ar/train.parquet');
    expect(file).toEqual({ uri: 'hf://datasets/org/opus/en-ar/train.parquet', sha256: sha('pairs v1') });

    // The same digest the store gives a published directory (and Python's store.py computes).
    const published = await store.publishDir(path.join(mirror, 'org', 'teacher'), store.uri('copy'), 'model');
    expect((await digest('hf://org/teacher')).sha256).toBe(published.sha256);
  });

  it('hash a glob over a sharded split by its files, in name order', async () => {
    const split = path.join(mirror, 'datasets', 'org', 'bench', 'data');
    await mkdir(split, { recursive: true });
    await writeFile(path.join(split, 'test-00001-of-00002.parquet'), 'b');
    await writeFile(path.join(split, 'test-00000-of-00002.parquet'), 'a');
    const digest = createSourceDigests({ store, hubMirror: mirror });
    const uri = 'hf://datasets/org/bench/data/test-*.parquet';
    const expected = sha(`test-00000-of-00002.parquet\0${sha('a')}\ntest-00001-of-00002.parquet\0${sha('b')}`);
    expect(await digest(uri)).toEqual({ uri, sha256: expected });
    await writeFile(path.join(split, 'test-00002-of-00003.parquet'), 'c'); // a new shard is new content
    expect((await digest(uri)).sha256).not.toBe(expected);
  });

  it('reuse a digest while size and mtime hold, and see any change of them', async () => {
    const digest = createSourceDigests({ store, hubMirror: mirror });
    const file = path.join(mirror, 'datasets', 'org', 'opus', 'en-ar', 'train.parquet');
    const uri = 'hf://datasets/org/opus/en-ar/train.parquet';
    const then = new Date('2026-01-01T00:00:00Z'); // whole seconds: utimes cannot restore sub-ms mtimes
    await utimes(file, then, then);
    expect((await digest(uri)).sha256).toBe(sha('pairs v1'));

    // Same size, same mtime, same inode: the cached digest answers (proof that nothing was re-read).
    await writeFile(file, 'pairs v2');
    await utimes(file, then, then);
    expect((await digest(uri)).sha256).toBe(sha('pairs v1'));

    await utimes(file, then, new Date(then.getTime() + 5000));
    expect((await digest(uri)).sha256).toBe(sha('pairs v2'));
  });

  it('re-hash a model directory when a file below it changes', async () => {
    const digest = createSourceDigests({ store, hubMirror: mirror });
    const first = await digest('hf://org/teacher');
    await writeFile(path.join(mirror, 'org', 'teacher', 'sub', 'model.safetensors'), 'weights, retrained');
    expect((await digest('hf://org/teacher')).sha256).not.toBe(first.sha256);
  });

  it('hash a file:// source outside the store, and name a missing one with its fix', async () => {
    const digest = createSourceDigests({ store, hubMirror: mirror });
    const outside = path.join(dir, 'shared', 'dev.parquet');
    await mkdir(path.dirname(outside), { recursive: true });
    await writeFile(outside, 'dev rows');
    expect(await digest(`file://${outside}`)).toEqual({ uri: `file://${outside}`, sha256: sha('dev rows') });
    await expect(digest(`file://${dir}/nowhere.parquet`)).rejects.toMatchObject({
      halaType: 'BadInput',
      message: expect.stringMatching(/nowhere\.parquet does not exist; fix the recipe input/),
    });
  });

  it('refuse an hf:// id missing from the mirror, naming the id and the mirror', async () => {
    const digest = createSourceDigests({ store, hubMirror: mirror });
    await expect(digest('hf://datasets/org/absent/x.parquet')).rejects.toMatchObject({
      halaType: 'BadInput',
      message: expect.stringMatching(/hf:\/\/datasets\/org\/absent\/x\.parquet is not in the hub mirror .*HALA_HUB_MIRROR/),
    });
  });
});

describe('source digests from the hub API (no mirror)', () => {
  beforeEach(() => vi.stubEnv('HALA_HUB_MIRROR', ''));

  const answering = (status: number, body: unknown) => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const fetch: HubFetch = async (url, init) => {
      seen.push({ url, headers: init.headers });
      return { ok: status < 300, status, json: async () => body };
    };
    return { fetch, seen };
  };

  it('never reach for the real hub under HF_HUB_OFFLINE=1, and say how to serve it instead', async () => {
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    const digest = createSourceDigests({ store });
    await expect(digest('hf://datasets/org/opus/en-ar/train.parquet')).rejects.toThrow(/HF_HUB_OFFLINE=1 .*HALA_HUB_MIRROR/);
  });

  it('digest a dataset file as sha256(hf-revision:<repo>@<commit>:<path>) and record the commit', async () => {
    const hub = answering(200, { id: 'org/opus', sha: COMMIT });
    const digest = createSourceDigests({ store, fetch: hub.fetch, hfToken: 'hf_secret', hubEndpoint: 'https://hub.test/' });
    const got = await digest('hf://datasets/org/opus/en-ar/train.parquet');
    expect(got).toEqual({
      uri: 'hf://datasets/org/opus/en-ar/train.parquet',
      sha256: sha(`hf-revision:org/opus@${COMMIT}:en-ar/train.parquet`),
      revision: COMMIT,
    });
    expect(hub.seen).toEqual([{ url: 'https://hub.test/api/datasets/org/opus/revision/main', headers: { authorization: 'Bearer hf_secret' } }]);
  });

  it('ask for the pinned revision of hf://org/name@<revision>, and key on the commit it names', async () => {
    const hub = answering(200, { sha: COMMIT });
    const got = await createSourceDigests({ store, fetch: hub.fetch, hubEndpoint: 'https://hub.test' })('hf://datasets/org/opus@v1.0/en-ar/train.parquet');
    expect(hub.seen.map((s) => s.url)).toEqual(['https://hub.test/api/datasets/org/opus/revision/v1.0']);
    expect(got).toMatchObject({ revision: COMMIT, sha256: sha(`hf-revision:org/opus@${COMMIT}:en-ar/train.parquet`) });
  });

  it('ask once-encoded for a branch spelt with %2F, as the hub parquet conversion is (refs/convert/parquet)', async () => {
    const hub = answering(200, { sha: COMMIT });
    const uri = 'hf://datasets/org/hermes@refs%2Fconvert%2Fparquet/default/train/*.parquet';
    const got = await createSourceDigests({ store, fetch: hub.fetch, hubEndpoint: 'https://hub.test' })(uri);
    expect(hub.seen.map((s) => s.url)).toEqual(['https://hub.test/api/datasets/org/hermes/revision/refs%2Fconvert%2Fparquet']);
    expect(got).toMatchObject({ revision: COMMIT, sha256: sha(`hf-revision:org/hermes@${COMMIT}:default/train/*.parquet`) });
  });

  it('ask the models API for a model repo, without a token when none is set', async () => {
    vi.stubEnv('HF_TOKEN', '');
    const hub = answering(200, { sha: COMMIT });
    const got = await createSourceDigests({ store, fetch: hub.fetch, hubEndpoint: 'https://hub.test' })('hf://CohereLabs/command-a');
    expect(got.sha256).toBe(sha(`hf-revision:CohereLabs/command-a@${COMMIT}:`));
    expect(hub.seen).toEqual([{ url: 'https://hub.test/api/models/CohereLabs/command-a/revision/main', headers: {} }]);
  });

  it('fail for good on a refused or unknown repo, and retryably when the hub is down', async () => {
    const digestWith = (status: number, body: unknown = {}) => createSourceDigests({ store, fetch: answering(status, body).fetch, hfToken: '' })('hf://org/gated');
    await expect(digestWith(401)).rejects.toMatchObject({ halaType: 'BadInput', message: expect.stringMatching(/hf:\/\/org\/gated: .*HTTP 401.*HF_TOKEN is not set.*Secret hala-hf \/ HF_TOKEN/) });
    await expect(digestWith(403)).rejects.toMatchObject({ halaType: 'BadInput', message: expect.stringMatching(/hf:\/\/org\/gated: .*HTTP 403: gated or private.*accept the model's terms/) });
    await expect(digestWith(404)).rejects.toMatchObject({ halaType: 'BadInput', message: expect.stringMatching(/no model repo org\/gated.*check the repo id and the revision/) });
    await expect(digestWith(200, { sha: 'not-a-commit' })).rejects.toMatchObject({ halaType: 'BadInput', message: expect.stringMatching(/without a commit sha/) });
    await expect(digestWith(503)).rejects.toMatchObject({ halaType: 'StorageUnavailable' });

    const unreachable: HubFetch = async () => {
      throw new Error('getaddrinfo ENOTFOUND');
    };
    await expect(createSourceDigests({ store, fetch: unreachable })('hf://org/x')).rejects.toMatchObject({
      halaType: 'StorageUnavailable',
      message: expect.stringMatching(/hf:\/\/org\/x: the hub did not answer .*HALA_HUB_MIRROR/),
    });
  });

  it('split hub ids the way the API names repos', () => {
    expect(parseHubId('hf://datasets/a/b/c/d.parquet')).toEqual({ kind: 'datasets', repo: 'a/b', path: 'c/d.parquet' });
    expect(parseHubId('hf://a/b')).toEqual({ kind: 'models', repo: 'a/b', path: '' });
    expect(() => parseHubId('hf://datasets/a')).toThrow(/not a hub id/);
    expect(parseHubId('hf://a/b@main')).toEqual({ kind: 'models', repo: 'a/b', path: '', revision: 'main' });
    expect(parseHubId(`hf://datasets/a/b@${COMMIT}/c.parquet`)).toEqual({ kind: 'datasets', repo: 'a/b', path: 'c.parquet', revision: COMMIT });
  });

  it('pin a hub id to a commit where the hub spells revisions; a branch gives way to its commit; commit-pinned and other ids stay', () => {
    expect(pinHubRevision('hf://CohereLabs/command-a', COMMIT)).toBe(`hf://CohereLabs/command-a@${COMMIT}`);
    expect(pinHubRevision('hf://datasets/org/opus/en-ar/train-*.parquet', COMMIT)).toBe(`hf://datasets/org/opus@${COMMIT}/en-ar/train-*.parquet`);
    expect(pinHubRevision('file:///models/m', COMMIT)).toBe('file:///models/m');
    const branch = 'hf://datasets/org/hermes@refs%2Fconvert%2Fparquet/default/train/*.parquet';
    expect(pinHubRevision(branch, COMMIT)).toBe(`hf://datasets/org/hermes@${COMMIT}/default/train/*.parquet`);
    expect(pinHubRevision('hf://org/m@v2', COMMIT)).toBe(`hf://org/m@${COMMIT}`);
    const other = 'c'.repeat(40);
    expect(pinHubRevision(`hf://org/m@${other}`, COMMIT)).toBe(`hf://org/m@${other}`);
    expect(splitHubRevision(`hf://datasets/org/opus@${COMMIT}/x.parquet`)).toEqual({ uri: 'hf://datasets/org/opus/x.parquet', revision: COMMIT });
  });

  it('hand a stage the commit its key names for a source on a branch', () => {
    const uri = 'hf://datasets/org/scp@refs%2Fconvert%2Fparquet/default/train/*.parquet';
    const slice = { sets: [{ name: 'scp', uri }] };
    const sources = [{ uri, revision: COMMIT, sha256: 'd'.repeat(64) }];
    expect(pinSources(slice, sources)).toEqual({ sets: [{ name: 'scp', uri: `hf://datasets/org/scp@${COMMIT}/default/train/*.parquet` }] });
    expect(pinSources(slice, [])).toEqual(slice);
  });
});
