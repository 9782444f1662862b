export { type ArtifactKind, type ArtifactStore } from './artifact-store';
export { FileStore } from './file-store';
export { S3Store, type S3StoreOptions } from './s3-store';
export { createStore, type CreateStoreOptions } from './create-store';
export { resolveSource } from './hub-source';
export { parseStoreUri, joinUri, fileUri, normalizeRootUri, assertUnderRoot, type StoreLocation } from './store-uri';
export { sha256Hex, fileSha256, directoryManifest, comparePosixPaths, MANIFEST_NAME, type DirectoryManifest } from './digest';
export { verifyLocalCopy } from './verify';
export { ArtifactCorrupt, ArtifactMissing, BadStoreUri } from './errors';
