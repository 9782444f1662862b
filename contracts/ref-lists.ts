// The payloads of the ref-list activities (activities/ref-lists.ts): a long list of artifact
// references is saved to the store once and read back a page at a time, so workflows hold one
// reference per list instead of thousands inline.
import { z } from 'zod';
import { ArtifactRef } from './artifact';

export const SaveRefListInput = z.strictObject({ uri: z.string(), refs: z.array(ArtifactRef) });
export const LoadRefPageInput = z.strictObject({
  list: ArtifactRef,
  start: z.number().int().nonnegative(),
  count: z.number().int().positive(),
});
export type SaveRefListInput = z.infer<typeof SaveRefListInput>;
export type LoadRefPageInput = z.infer<typeof LoadRefPageInput>;
