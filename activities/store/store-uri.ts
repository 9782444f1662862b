import path from 'node:path';
import { BadStoreUri } from './errors';

// Store URIs, parsed by the same rules as gpu-runners/hala_runners/store.py `split`:
// `file:///absolute/path` (three slashes) and `s3://bucket/key`; `..` segments are refused anywhere.

export type StoreLocation =
  | { scheme: 'file'; path: string }
  | { scheme: 's3'; bucket: string; key: string };

export function parseStoreUri(uri: string): StoreLocation {
  const match = /^([a-z0-9+.-]+):\/\/([^/]*)(.*)$/i.exec(uri);
  if (!match) {
    throw new BadStoreUri(`${JSON.stringify(uri)} is not a store URI: write file:///absolute/path or s3://bucket/key`);
  }
  const [, scheme = '', authority = '', rest = ''] = match;
  if (rest.split('/').includes('..')) {
    throw new BadStoreUri(`${JSON.stringify(uri)}: '..' segments are not allowed in artifact URIs; name the artifact directly`);
  }
  if (scheme === 'file') {
    if (authority !== '') {
      throw new BadStoreUri(`${JSON.stringify(uri)}: use file:///absolute/path (three slashes)`);
    }
    return { scheme: 'file', path: rest };
  }
  if (scheme === 's3') {
    if (authority === '') throw new BadStoreUri(`${JSON.stringify(uri)}: an s3:// URI needs a bucket (s3://bucket/key)`);
    return { scheme: 's3', bucket: authority, key: rest.replace(/^\/+/, '') };
  }
  throw new BadStoreUri(`${JSON.stringify(uri)}: the store serves file:// and s3:// URIs only`);
}

/** `join('s3://b/runs/', 'x', '/y.parquet')` → `s3://b/runs/x/y.parquet` (same as store.py `join`). */
export function joinUri(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}

/** `file:///abs/path` for a local path; relative paths resolve against `baseDir`. */
export function fileUri(localPath: string, baseDir = process.cwd()): string {
  return `file://${path.resolve(baseDir, localPath)}`;
}

/**
 * The canonical root of a store: `file://` roots become absolute (recipes may say `file://.hala/store`,
 * relative to `baseDir`), trailing slashes go. Python only reads absolute file URIs, so every URI the
 * store hands out must be absolute.
 */
export function normalizeRootUri(rootUri: string, baseDir = process.cwd()): string {
  const relativeFile = /^file:\/\/([^/].*)$/.exec(rootUri);
  const uri = relativeFile ? fileUri(relativeFile[1] ?? '', baseDir) : rootUri;
  const location = parseStoreUri(uri);
  if (location.scheme === 'file' && !path.isAbsolute(location.path)) {
    throw new BadStoreUri(`store root ${JSON.stringify(rootUri)}: use file:///absolute/path`);
  }
  return uri.replace(/\/+$/, '');
}

/** Refuses `uri` unless it is the root itself or lies below it: a campaign never writes elsewhere. */
export function assertUnderRoot(uri: string, rootUri: string): void {
  parseStoreUri(uri);
  if (uri !== rootUri && !uri.startsWith(`${rootUri}/`)) {
    throw new BadStoreUri(
      `${JSON.stringify(uri)} is outside the store root ${rootUri}; write below the root (set store.root to cover it)`,
    );
  }
}
