import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ArtifactRef } from '../../contracts/artifact';
import { type ArtifactKind, type ArtifactStore, fileRef } from './artifact-store';
import { tempSibling } from './atomic-write';
import { directoryManifest, fileSha256, listFilesRecursive, MANIFEST_NAME } from './digest';
import { ArtifactCorrupt, ArtifactMissing, BadStoreUri } from './errors';
import { assertUnderRoot, joinUri, normalizeRootUri, parseStoreUri } from './store-uri';
import { verifyLocalCopy } from './verify';

export interface S3StoreOptions {
  /** S3-compatible endpoint (SeaweedFS, MinIO); default $HALA_S3_ENDPOINT, else AWS itself. */
  endpoint?: string;
  /** Default $AWS_REGION, else us-east-1 (what SeaweedFS expects). */
  region?: string;
  /** Default: the AWS SDK's usual chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`host/bucket/key`); SeaweedFS and MinIO need them. Default: true with an endpoint. */
  forcePathStyle?: boolean;
  /** Where fetched objects are cached; default $HALA_CACHE/s3-objects like the Python side. */
  cacheDir?: string;
  /** An already configured client (tests, custom middleware); the options above are then ignored. */
  client?: S3Client;
}

/** The store in an S3 bucket (`s3://bucket/prefix`): production, and SeaweedFS in tests. */
export class S3Store implements ArtifactStore {
  readonly rootUri: string;
  readonly client: S3Client;
  private readonly cacheDir: string;

  constructor(rootUri: string, options: S3StoreOptions = {}) {
    this.rootUri = normalizeRootUri(rootUri);
    if (parseStoreUri(this.rootUri).scheme !== 's3') {
      throw new BadStoreUri(`S3Store root ${JSON.stringify(rootUri)} must be an s3:// URI; use FileStore for file://`);
    }
    const endpoint = options.endpoint ?? (process.env.HALA_S3_ENDPOINT || undefined);
    this.client =
      options.client ??
      new S3Client({
        endpoint,
        region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
        credentials: options.credentials,
        forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
        // Newer SDKs add CRC checksums (aws-chunked uploads) by default; S3-compatible servers do
        // not all speak that, and we verify sha256 ourselves.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    const cacheRoot = process.env.HALA_CACHE || path.join(os.homedir(), '.cache', 'hala-flow');
    this.cacheDir = options.cacheDir ?? path.join(cacheRoot, 's3-objects');
  }

  uri(...parts: string[]): string {
    return joinUri(this.rootUri, ...parts);
  }

  async putFile(localPath: string, uri: string, kind: ArtifactKind, rows?: number): Promise<ArtifactRef> {
    const { bucket, key } = this.locate(uri, 'write');
    const [sha256, info] = await Promise.all([fileSha256(localPath), stat(localPath)]);
    await this.upload(localPath, bucket, key, info.size);
    return fileRef(uri, sha256, kind, info.size, rows);
  }

  async putBytes(uri: string, data: Uint8Array | string): Promise<void> {
    const { bucket, key } = this.locate(uri, 'write');
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
  }

  async getBytes(uri: string): Promise<Buffer> {
    const { bucket, key } = this.locate(uri, 'read');
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) throw missing(uri);
      throw error;
    }
  }

  async remove(uri: string): Promise<void> {
    const { bucket, key } = this.locate(uri, 'write');
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async exists(uri: string): Promise<boolean> {
    const { bucket, key } = this.locate(uri, 'read');
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async publishDir(localDir: string, uri: string, kind: ArtifactKind): Promise<ArtifactRef> {
    const { bucket, key } = this.locate(uri, 'write');
    const manifest = await directoryManifest(localDir);
    for (const rel of await listFilesRecursive(localDir)) {
      if (path.posix.basename(rel) === MANIFEST_NAME) continue;
      const file = path.join(localDir, rel);
      await this.upload(file, bucket, `${trimSlashes(key)}/${rel}`, (await stat(file)).size);
    }
    // Written last: a prefix without its manifest is an unfinished directory on both sides.
    await this.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${trimSlashes(key)}/${MANIFEST_NAME}`, Body: manifest.text }),
    );
    return { uri, sha256: manifest.sha256, kind, bytes: manifest.bytes, files: manifest.files };
  }

  async fetchToLocal(source: string | ArtifactRef): Promise<string> {
    const ref = typeof source === 'string' ? undefined : source;
    const uri = ref?.uri ?? (source as string);
    const { bucket, key } = this.locate(uri, 'read');
    const dest = path.join(this.cacheDir, bucket, key);
    // A cached copy is reused only when a reference proves it is the right one.
    if (ref && (await isVerified(dest, ref))) return dest;
    if (await this.exists(uri)) {
      await mkdir(path.dirname(dest), { recursive: true });
      const tmp = tempSibling(dest);
      await this.download(bucket, key, tmp);
      await rename(tmp, dest);
    } else {
      await this.downloadPrefix(uri, bucket, key, dest);
    }
    if (ref) await verifyLocalCopy(dest, ref);
    return dest;
  }

  async list(prefix: string): Promise<string[]> {
    const { bucket, key } = this.locate(prefix, 'read');
    const keys = await this.listKeys(bucket, key === '' ? '' : `${trimSlashes(key)}/`);
    return keys.map((k) => `s3://${bucket}/${k}`).sort();
  }

  private locate(uri: string, mode: 'read' | 'write'): { bucket: string; key: string } {
    const location = parseStoreUri(uri);
    if (location.scheme !== 's3') {
      throw new BadStoreUri(`${uri}: this store (${this.rootUri}) serves s3:// URIs only; upload the artifact or point store.root at file://`);
    }
    if (mode === 'write') {
      assertUnderRoot(uri, this.rootUri);
      if (location.key === '') throw new BadStoreUri(`${uri}: name an object below the bucket, not the bucket itself`);
    }
    return location;
  }

  private async upload(localPath: string, bucket: string, key: string, size: number): Promise<void> {
    // Streamed, so model shards never sit in memory. Single PUT: S3 caps one object at 5 GiB.
    await this.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(localPath), ContentLength: size }),
    );
  }

  private async download(bucket: string, key: string, dest: string): Promise<void> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(response.Body as Readable, createWriteStream(dest));
  }

  /** A directory artifact: every object below `key/`, into a temp dir swapped in at the end. */
  private async downloadPrefix(uri: string, bucket: string, key: string, dest: string): Promise<void> {
    const prefix = `${trimSlashes(key)}/`;
    const keys = await this.listKeys(bucket, prefix);
    if (keys.length === 0) throw missing(uri);
    await mkdir(path.dirname(dest), { recursive: true });
    const tmp = tempSibling(dest);
    try {
      for (const objectKey of keys) {
        const target = path.join(tmp, objectKey.slice(prefix.length));
        await mkdir(path.dirname(target), { recursive: true });
        await this.download(bucket, objectKey, target);
      }
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    }
  }

  private async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key && !object.Key.endsWith('/')) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}

function trimSlashes(key: string): string {
  return key.replace(/^\/+|\/+$/g, '');
}

function missing(uri: string): ArtifactMissing {
  return new ArtifactMissing(`artifact ${uri} does not exist: was the bucket cleaned or the prefix renamed? Rerun the stage that produces it`);
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

async function isVerified(localPath: string, ref: ArtifactRef): Promise<boolean> {
  try {
    await verifyLocalCopy(localPath, ref);
    return true;
  } catch (error) {
    if (error instanceof ArtifactCorrupt || (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
