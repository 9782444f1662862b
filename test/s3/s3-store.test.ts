// Runs the S3 store against a real SeaweedFS (`weed` from the runner venv) on loopback ports:
//   npx vitest run test/s3
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCorrupt, ArtifactMissing, BadStoreUri, FileStore, S3Store, directoryManifest } from '../../activities/store';

const BUCKET = 'hala-test';
const credentials = { accessKeyId: 'hala', secretAccessKey: 'hala-secret-key' };
let weed: ChildProcess | undefined;
let endpoint = '';
let dir = '';
let ports: number[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A store with its own download cache, so each test sees what is in the bucket. */
function s3Store(prefix = 'campaign'): S3Store {
  return new S3Store(`s3://${BUCKET}/${prefix}`, { endpoint, credentials, region: 'us-east-1', cacheDir: path.join(dir, `cache-${Math.random()}`) });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 's3-store-test-'));
  const repo = path.resolve(__dirname, '..', '..');
  const venv = execFileSync('bash', [path.join(repo, 'scripts', 'python-env.sh')], { encoding: 'utf8' }).trim();
  const s3Config = path.join(dir, 's3.json');
  await writeFile(s3Config, JSON.stringify({
    identities: [{ name: 'hala', credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }],
  }));
  ports = await Promise.all(Array.from({ length: 8 }, freePort));
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = ports;
  await mkdir(path.join(dir, 'data'));
  weed = spawn(path.join(venv, 'bin', 'weed'), [
    'server', '-s3', `-dir=${path.join(dir, 'data')}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1',
    `-master.port=${master}`, `-master.port.grpc=${masterGrpc}`, `-volume.port=${volume}`, `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`, `-filer.port.grpc=${filerGrpc}`, `-s3.port=${s3}`, `-s3.port.grpc=${s3Grpc}`,
    // Every listener pinned or disabled, so parallel runs and other services never collide.
    '-s3.port.iceberg=0', '-s3.port.lance=0', '-master.telemetry=false', '-metricsPort=0', '-master.volumeSizeLimitMB=64', '-volume.max=8', `-s3.config=${s3Config}`,
    `-filer.localSocket=${path.join(dir, 'filer.sock')}`, `-s3.localSocket=${path.join(dir, 's3.sock')}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  weed.stderr?.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-4000); });
  endpoint = `http://127.0.0.1:${s3}`;

  // Ready when a bucket can be created (master, volume, filer and gateway all up).
  const client = new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  const deadline = Date.now() + 45_000;
  for (;;) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      break;
    } catch (error) {
      if (weed.exitCode !== null || Date.now() > deadline) throw new Error(`SeaweedFS did not start: ${String(error)}\n${log}`, { cause: error });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  client.destroy();
}, 60_000);

afterAll(async () => {
  if (weed && weed.exitCode === null) {
    const exited = new Promise((r) => weed!.once('exit', r));
    weed.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (weed.exitCode === null) weed.kill('SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  // weed leaves gRPC unix sockets named by port in /tmp (no flag moves them): remove ours.
  const sockets = (await readdir(os.tmpdir())).filter((name) => /^seaweedfs-.*-(\d+)\.sock$/.test(name) && ports.includes(Number(/(\d+)\.sock$/.exec(name)?.[1])));
  await Promise.all(sockets.map((name) => rm(path.join(os.tmpdir(), name), { force: true })));
});

describe('S3Store on SeaweedFS', () => {
  it('puts, gets and lists files with the same digest as FileStore', async () => {
    const store = s3Store();
    const local = path.join(dir, 'pairs.parquet');
    await writeFile(local, 'صباح الخير — good morning');
    const uri = store.uri('runs', 'k1', 'pairs.parquet');
    const ref = await store.putFile(local, uri, 'dataset', 1);
    const fileRef = await new FileStore(`file://${dir}/store`).putFile(local, `file://${dir}/store/pairs.parquet`, 'dataset', 1);
    expect(ref).toEqual({ ...fileRef, uri });

    expect((await store.getBytes(uri)).toString()).toBe('صباح الخير — good morning');
    expect(await store.exists(uri)).toBe(true);
    expect(await store.exists(store.uri('runs', 'k1', 'absent'))).toBe(false);
    await store.putBytes(store.uri('runs', 'k1', 'counts.json'), '{"kept": 1}');
    expect(await store.list(store.uri('runs'))).toEqual([store.uri('runs', 'k1', 'counts.json'), uri]);
    expect(await readFile(await store.fetchToLocal(ref), 'utf8')).toBe('صباح الخير — good morning');
  });

  it('publishes and fetches a directory; the digest matches FileStore and the local manifest', async () => {
    const model = path.join(dir, 'model');
    await mkdir(path.join(model, 'a', 'b'), { recursive: true });
    await writeFile(path.join(model, 'config.json'), '{"model_type": "lfm2"}');
    await writeFile(path.join(model, 'a', 'b', 'model.safetensors'), Buffer.alloc(70_000, 7));
    await writeFile(path.join(model, 'a-c'), 'x');
    await writeFile(path.join(model, 'tokenizer.json'), '{"مرحبا": 1}');

    const store = s3Store();
    const ref = await store.publishDir(model, store.uri('models', 'translator'), 'model');
    const fileRef = await new FileStore(`file://${dir}/store`).publishDir(model, `file://${dir}/store/translator`, 'model');
    expect(ref).toMatchObject({ sha256: fileRef.sha256, bytes: fileRef.bytes, files: 4 });
    expect(ref.sha256).toBe((await directoryManifest(model)).sha256);

    const fetched = await store.fetchToLocal(ref);
    expect(await readFile(path.join(fetched, 'tokenizer.json'), 'utf8')).toBe('{"مرحبا": 1}');
    expect((await directoryManifest(fetched)).sha256).toBe(ref.sha256);
    // A second fetch with the reference reuses the verified cached copy.
    expect(await store.fetchToLocal(ref)).toBe(fetched);
  });

  it('detects a changed object, a missing one, and refuses writes outside its root', async () => {
    const store = s3Store();
    const local = path.join(dir, 'shard.parquet');
    await writeFile(local, 'original');
    const uri = store.uri('shards', 'shard-00000.parquet');
    const ref = await store.putFile(local, uri, 'dataset');
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'campaign/shards/shard-00000.parquet', Body: 'overwritten' }));
    await expect(s3Store().fetchToLocal(ref)).rejects.toThrow(ArtifactCorrupt);
    await expect(s3Store().fetchToLocal(ref)).rejects.toThrow(new RegExp(`${uri}: sha256`));
    await expect(store.fetchToLocal(store.uri('never-written'))).rejects.toThrow(ArtifactMissing);
    await expect(store.getBytes(store.uri('never-written'))).rejects.toThrow(ArtifactMissing);
    await expect(store.putBytes(`s3://${BUCKET}/other/x`, 'x')).rejects.toThrow(BadStoreUri);
    await expect(store.putBytes(`file://${dir}/x`, 'x')).rejects.toThrow(/serves s3:\/\/ URIs only/);
  });

  it('uses the configured credentials (a wrong secret is refused)', async () => {
    const intruder = new S3Store(`s3://${BUCKET}/campaign`, { endpoint, credentials: { ...credentials, secretAccessKey: 'wrong' } });
    await expect(intruder.putBytes(intruder.uri('x'), 'x')).rejects.toThrow();
  });
});
