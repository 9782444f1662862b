import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ArtifactCorrupt,
  ArtifactMissing,
  BadStoreUri,
  FileStore,
  MANIFEST_NAME,
  S3Store,
  comparePosixPaths,
  createStore,
  directoryManifest,
  joinUri,
  parseStoreUri,
  resolveSource,
  sha256Hex,
} from '../../activities/store';

let dir: string;
let store: FileStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'store-test-'));
  store = new FileStore(`file://${dir}/store`);
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** A small model-like directory with names whose order differs between naive and Python sorting. */
async function writeModelDir(root: string): Promise<void> {
  await mkdir(path.join(root, 'a', 'b'), { recursive: true });
  await writeFile(path.join(root, 'config.json'), '{"model_type": "lfm2"}');
  await writeFile(path.join(root, 'a', 'b', 'weights.bin'), Buffer.from([0, 1, 2, 3]));
  await writeFile(path.join(root, 'a-c'), 'sorts after a/… in Python, before it as a plain string');
  await writeFile(path.join(root, 'عربي.txt'), 'مرحبا');
  await writeFile(path.join(root, '\u{1F600}.txt'), 'astral plane name');
  await writeFile(path.join(root, '\uFFFD.txt'), 'BMP name that UTF-16 order puts after the emoji');
}

describe('store URIs', () => {
  it('parses file:/// and s3:// and joins like store.py', () => {
    expect(parseStoreUri('file:///data/x.parquet')).toEqual({ scheme: 'file', path: '/data/x.parquet' });
    expect(parseStoreUri('s3://bucket/runs/x')).toEqual({ scheme: 's3', bucket: 'bucket', key: 'runs/x' });
    expect(joinUri('s3://b/runs/', '/k/', 'pairs.parquet')).toBe('s3://b/runs/k/pairs.parquet');
  });

  it('refuses `..`, other schemes, file:// with a host, and writes outside the root, naming URI and fix', async () => {
    expect(() => parseStoreUri('file:///data/../etc/passwd')).toThrow(/"file:\/\/\/data\/..\/etc\/passwd": '\.\.' segments/);
    expect(() => parseStoreUri('gs://bucket/x')).toThrow(/"gs:\/\/bucket\/x": the store serves file:\/\/ and s3:\/\/ URIs only/);
    expect(() => parseStoreUri('file://data/x')).toThrow(/three slashes/);
    await expect(store.putBytes(`file://${dir}/elsewhere.txt`, 'x')).rejects.toThrow(/outside the store root/);
    await expect(store.putBytes(`file://${dir}/store-sibling/x`, 'x')).rejects.toThrow(BadStoreUri);
    await expect(store.getBytes('s3://bucket/x')).rejects.toThrow(/serves file:\/\/ URIs only/);
  });

  it('createStore picks the implementation and resolves relative file roots', () => {
    expect(createStore('file://.hala/store', { baseDir: dir }).rootUri).toBe(`file://${dir}/.hala/store`);
    expect(createStore('s3://bucket/prefix/', { s3: { endpoint: 'http://127.0.0.1:1' } })).toBeInstanceOf(S3Store);
  });
});

describe('FileStore', () => {
  it('puts, gets, lists and verifies files', async () => {
    const local = path.join(dir, 'pairs.parquet');
    await writeFile(local, 'pretend parquet');
    const uri = store.uri('runs', 'k1', 'pairs.parquet');
    const ref = await store.putFile(local, uri, 'dataset', 12);
    expect(ref).toEqual({ uri, sha256: sha256Hex('pretend parquet'), kind: 'dataset', bytes: 15, rows: 12 });
    expect((await store.getBytes(uri)).toString()).toBe('pretend parquet');
    expect(await store.exists(uri)).toBe(true);
    await store.putBytes(store.uri('runs', 'k1', 'note.txt'), 'ملاحظة');
    expect(await store.list(store.uri('runs'))).toEqual([store.uri('runs', 'k1', 'note.txt'), uri]);
    expect(await store.fetchToLocal(ref)).toBe(path.join(dir, 'store', 'runs', 'k1', 'pairs.parquet'));

    await writeFile(path.join(dir, 'store', 'runs', 'k1', 'pairs.parquet'), 'tampered');
    await expect(store.fetchToLocal(ref)).rejects.toThrow(ArtifactCorrupt);
    await expect(store.fetchToLocal(ref)).rejects.toThrow(new RegExp(`${uri}: sha256 .* does not match`));
    await expect(store.fetchToLocal(store.uri('missing.parquet'))).rejects.toThrow(ArtifactMissing);
    await expect(store.getBytes(store.uri('missing.parquet'))).rejects.toThrow(/missing\.parquet does not exist/);
  });

  it('publishes a directory with its manifest last and verifies it on fetch', async () => {
    const model = path.join(dir, 'model');
    await writeModelDir(model);
    const uri = store.uri('models', 'translator');
    const ref = await store.publishDir(model, uri, 'model');
    const manifest = await readFile(path.join(dir, 'store', 'models', 'translator', MANIFEST_NAME), 'utf8');
    expect(ref).toMatchObject({ uri, kind: 'model', files: 6, sha256: sha256Hex(manifest) });
    expect(manifest.split('\n')[0]).toMatch(/^[0-9a-f]{64} {2}a\/b\/weights\.bin$/);
    expect(await store.fetchToLocal(ref)).toBe(path.join(dir, 'store', 'models', 'translator'));

    // Republishing (a retried activity) replaces the directory atomically with the same digest.
    expect((await store.publishDir(model, uri, 'model')).sha256).toBe(ref.sha256);
    await rm(path.join(dir, 'store', 'models', 'translator', MANIFEST_NAME));
    await expect(store.fetchToLocal(ref)).rejects.toThrow(/never finished/);
  });
});

describe('directory digest', () => {
  it('sorts paths segment by segment and by code point, as Python does', () => {
    expect(['a-c', 'a/b/weights.bin', 'B'].sort(comparePosixPaths)).toEqual(['B', 'a/b/weights.bin', 'a-c']);
    expect(['\u{1F600}', '\uFFFD'].sort(comparePosixPaths)).toEqual(['\uFFFD', '\u{1F600}']);
  });

  it('equals hala_runners.store on the same directory', async () => {
    const model = path.join(dir, 'model');
    await writeModelDir(model);
    await writeFile(path.join(model, MANIFEST_NAME), 'an old manifest is never part of the digest');
    await symlink(path.join(model, 'config.json'), path.join(model, 'linked.json'));
    const repo = path.resolve(__dirname, '..', '..');
    const venv = execFileSync('bash', [path.join(repo, 'scripts', 'python-env.sh')], { encoding: 'utf8' }).trim();
    const python = execFileSync(
      path.join(venv, 'bin', 'python'),
      ['-c', 'import hashlib, pathlib, sys\nfrom hala_runners import store\nprint(hashlib.sha256(store.manifest_text(pathlib.Path(sys.argv[1])).encode()).hexdigest())', model],
      { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(repo, 'gpu-runners') } },
    ).trim();
    expect((await directoryManifest(model)).sha256).toBe(python);
  });
});

describe('resolveSource', () => {
  it('reads hf:// from the mirror, file:// in place, and names the mirror when missing', async () => {
    const mirror = path.join(dir, 'mirror');
    await mkdir(path.join(mirror, 'datasets', 'Helsinki-NLP', 'opus-100'), { recursive: true });
    await writeFile(path.join(mirror, 'datasets', 'Helsinki-NLP', 'opus-100', 'en-ar.parquet'), 'x');
    expect(await resolveSource('hf://datasets/Helsinki-NLP/opus-100/en-ar.parquet', store, mirror))
      .toBe(path.join(mirror, 'datasets', 'Helsinki-NLP', 'opus-100', 'en-ar.parquet'));
    await expect(resolveSource('hf://datasets/Open-Orca/OpenOrca/x.parquet', store, mirror)).rejects.toThrow(/not in the hub mirror .*HALA_HUB_MIRROR/);
    expect(await resolveSource('hf://datasets/Open-Orca/OpenOrca/x.parquet', store, '')).toBe('hf://datasets/Open-Orca/OpenOrca/x.parquet');
    expect(await resolveSource(`file://${mirror}`, store, mirror)).toBe(mirror);
    await expect(resolveSource('hf://datasets/../x', store, mirror)).rejects.toThrow(BadStoreUri);
  });
});
