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

/**
 * The S3 client options every process here takes from its environment: HALA_S3_ENDPOINT (a local
 * S3 such as MinIO) and AWS_REGION; none when no endpoint is set, so the SDK's own defaults apply.
 */
export function s3OptionsFromEnv(): S3StoreOptions | undefined {
  const endpoint = process.env.HALA_S3_ENDPOINT;
  return endpoint ? { endpoint, region: process.env.AWS_REGION ?? 'us-east-1' } : undefined;
}
