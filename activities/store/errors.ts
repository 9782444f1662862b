import type { HalaErrorType } from '../../contracts/errors';

// Store failures carry the shared error type (contracts/errors.ts) so an activity can turn them into
// an ApplicationFailure without guessing. Anything else the S3 client throws (network, 5xx) stays a
// plain Error: Temporal retries those, which is what a storage hiccup deserves.

/** A URI the store will not touch: wrong scheme, `..`, outside the root, malformed. */
export class BadStoreUri extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'BadStoreUri';
}

/** The URI is well formed but nothing is there. */
export class ArtifactMissing extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'ArtifactMissing';
}

/** The bytes behind a reference no longer match its sha256 (or a directory was never finished). */
export class ArtifactCorrupt extends Error {
  readonly halaType: HalaErrorType = 'ArtifactCorrupt';
  override readonly name = 'ArtifactCorrupt';
}
