import type { ArtifactRef } from '../../contracts/artifact';

export type ArtifactKind = ArtifactRef['kind'];

/**
 * Where artifacts live, seen from TypeScript. Two implementations share these rules with the Python
 * side (gpu-runners/hala_runners/store.py): file digests are sha256 of the bytes, directory digests
 * are sha256 of the manifest written last, local writes are temp file + rename.
 *
 * Writes (`put*`, `publishDir`) must land below `rootUri`; reads accept any URI of the store's scheme,
 * because shared inputs may live outside a campaign's root.
 */
export interface ArtifactStore {
  /** Canonical root: `file:///abs/dir` or `s3://bucket/prefix`, no trailing slash. */
  readonly rootUri: string;
  /** A URI below the root: `store.uri('runs', key, 'pairs.parquet')`. */
  uri(...parts: string[]): string;
  /** Publishes a finished local file and returns its reference. */
  putFile(localPath: string, uri: string, kind: ArtifactKind, rows?: number): Promise<ArtifactRef>;
  putBytes(uri: string, data: Uint8Array | string): Promise<void>;
  getBytes(uri: string): Promise<Buffer>;
  exists(uri: string): Promise<boolean>;
  /** Removes one object below the root (`hala doctor`'s probe file); absent already is fine. */
  remove(uri: string): Promise<void>;
  /** Publishes a finished local directory, manifest last, and returns its reference. */
  publishDir(localDir: string, uri: string, kind: ArtifactKind): Promise<ArtifactRef>;
  /** A local path holding the artifact; given a reference, its sha256 is verified (ArtifactCorrupt). */
  fetchToLocal(source: string | ArtifactRef): Promise<string>;
  /** URIs of every object below `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
}

export function fileRef(uri: string, sha256: string, kind: ArtifactKind, bytes: number, rows?: number): ArtifactRef {
  return rows === undefined ? { uri, sha256, kind, bytes } : { uri, sha256, kind, bytes, rows };
}
