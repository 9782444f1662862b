import { access, readFile, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactRef } from '../../contracts/artifact';
import { type ArtifactKind, type ArtifactStore, fileRef } from './artifact-store';
import { copyDirAtomic, copyFileAtomic, isTempName, writeFileAtomic } from './atomic-write';
import { directoryManifest, fileSha256, listFilesRecursive, MANIFEST_NAME } from './digest';
import { ArtifactMissing, BadStoreUri } from './errors';
import { assertUnderRoot, joinUri, normalizeRootUri, parseStoreUri } from './store-uri';
import { verifyLocalCopy } from './verify';

/** The store as a local directory (`file:///abs/dir`): the default on a laptop and in CI. */
export class FileStore implements ArtifactStore {
  readonly rootUri: string;

  constructor(rootUri: string, options: { baseDir?: string } = {}) {
    this.rootUri = normalizeRootUri(rootUri, options.baseDir);
    if (parseStoreUri(this.rootUri).scheme !== 'file') {
      throw new BadStoreUri(`FileStore root ${JSON.stringify(rootUri)} must be a file:// URI; use S3Store for s3://`);
    }
  }

  uri(...parts: string[]): string {
    return joinUri(this.rootUri, ...parts);
  }

  async putFile(localPath: string, uri: string, kind: ArtifactKind, rows?: number): Promise<ArtifactRef> {
    const dest = this.pathFor(uri, 'write');
    const [sha256, info] = await Promise.all([fileSha256(localPath), stat(localPath)]);
    if (!(await samePath(localPath, dest))) await copyFileAtomic(localPath, dest);
    return fileRef(uri, sha256, kind, info.size, rows);
  }

  async putBytes(uri: string, data: Uint8Array | string): Promise<void> {
    await writeFileAtomic(this.pathFor(uri, 'write'), data);
  }

  async getBytes(uri: string): Promise<Buffer> {
    const file = this.pathFor(uri, 'read');
    try {
      return await readFile(file);
    } catch (error) {
      if (isNotFound(error)) throw missing(uri);
      throw error;
    }
  }

  async exists(uri: string): Promise<boolean> {
    return access(this.pathFor(uri, 'read')).then(() => true, () => false);
  }

  async remove(uri: string): Promise<void> {
    await rm(this.pathFor(uri, 'write'), { force: true });
  }

  async publishDir(localDir: string, uri: string, kind: ArtifactKind): Promise<ArtifactRef> {
    const dest = this.pathFor(uri, 'write');
    const manifest = await directoryManifest(localDir);
    if (await samePath(localDir, dest)) {
      await writeFileAtomic(path.join(dest, MANIFEST_NAME), manifest.text);
    } else {
      await copyDirAtomic(localDir, dest, (tmp) => writeFileAtomic(path.join(tmp, MANIFEST_NAME), manifest.text));
    }
    return { uri, sha256: manifest.sha256, kind, bytes: manifest.bytes, files: manifest.files };
  }

  async fetchToLocal(source: string | ArtifactRef): Promise<string> {
    const ref = typeof source === 'string' ? undefined : source;
    const uri = ref?.uri ?? (source as string);
    const local = this.pathFor(uri, 'read');
    if (!(await this.exists(uri))) throw missing(uri);
    if (ref) await verifyLocalCopy(local, ref);
    return local;
  }

  async list(prefix: string): Promise<string[]> {
    const local = this.pathFor(prefix, 'read');
    const info = await stat(local).catch(() => undefined);
    if (!info) return [];
    if (!info.isDirectory()) return [prefix];
    const files = await listFilesRecursive(local);
    return files.filter((rel) => !rel.split('/').some(isTempName)).map((rel) => joinUri(prefix, rel));
  }

  /** The local path behind `uri`; writes must stay below the root. */
  private pathFor(uri: string, mode: 'read' | 'write'): string {
    const location = parseStoreUri(uri);
    if (location.scheme !== 'file') {
      throw new BadStoreUri(`${uri}: this store (${this.rootUri}) serves file:// URIs only; copy the artifact into it or point store.root at s3://`);
    }
    if (mode === 'write') assertUnderRoot(uri, this.rootUri);
    return location.path;
  }
}

function missing(uri: string): ArtifactMissing {
  return new ArtifactMissing(`artifact ${uri} does not exist: was the store root moved or cleaned? Rerun the stage that produces it`);
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function samePath(a: string, b: string): Promise<boolean> {
  const resolve = (p: string) => realpath(p).catch(() => path.resolve(p));
  return (await resolve(a)) === (await resolve(b));
}

