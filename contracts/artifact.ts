import { z } from 'zod';

/** Where artifacts live. `file://` for a local directory, `s3://bucket/prefix` in production. */
export const StoreUri = z
  .string()
  .regex(/^(file|s3):\/\/.+/, 'must be a file:// or s3:// URI')
  .refine((u) => !u.split('/').includes('..'), 'must not contain ".." path segments');

/** Where a model or dataset comes from: a hub id (`hf://org/name[/path]`) or a store URI. */
export const SourceUri = z
  .string()
  .regex(/^(hf|file|s3):\/\/.+/, 'must be an hf://, file:// or s3:// URI')
  .refine((u) => !u.split('/').includes('..'), 'must not contain ".." path segments');

export const ArtifactKind = z.enum(['model', 'dataset', 'report', 'checkpoint']);

/**
 * A reference to an artifact in the store. Workflows carry these, never the data itself.
 * A directory artifact (a model) has `sha256` = digest of its manifest: the sorted lines
 * `<sha256>  <relative path>\n` of every file below it (the same on both sides of the wire).
 */
export const ArtifactRef = z.object({
  uri: StoreUri,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  kind: ArtifactKind,
  bytes: z.number().int().nonnegative(),
  /** Rows in a dataset artifact (parquet), when known. */
  rows: z.number().int().nonnegative().optional(),
  /** Files in a directory artifact. */
  files: z.number().int().nonnegative().optional(),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;
