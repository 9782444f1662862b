import type { ArtifactStore } from './artifact-store';
import { FileStore } from './file-store';
import { S3Store, type S3StoreOptions } from './s3-store';
import { normalizeRootUri, parseStoreUri } from './store-uri';

export interface CreateStoreOptions {
  /** Relative `file://` roots (`file://.hala/store`) resolve against this; default the cwd. */
  baseDir?: string;
  s3?: S3StoreOptions;
}

/** The store for a recipe's `store.root`: FileStore for file://, S3Store for s3://. */
export function createStore(rootUri: string, options: CreateStoreOptions = {}): ArtifactStore {
  const root = normalizeRootUri(rootUri, options.baseDir);
  return parseStoreUri(root).scheme === 'file' ? new FileStore(root) : new S3Store(root, options.s3);
}
