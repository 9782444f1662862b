// The claim on a stage key is one workflow id per store and key: the same for every campaign on a
// store (so Temporal lets one of them hold it), another for another store (which computes its own).
import { describe, expect, it } from 'vitest';
import { claimWorkflowId } from '../../workflows/stage-claim';

const KEY = 'a'.repeat(64);

describe('claimWorkflowId', () => {
  it('names the store by a short digest and the key in full', () => {
    expect(claimWorkflowId('file:///srv/hala/store', KEY)).toMatch(new RegExp(`^hala-claim/[0-9a-f]{16}/${KEY}$`));
    expect(claimWorkflowId('file:///srv/hala/store', KEY)).toBe(claimWorkflowId('file:///srv/hala/store', KEY));
  });

  it('gives another store, or another key, another claim', () => {
    const ids = new Set([
      claimWorkflowId('file:///srv/hala/store', KEY),
      claimWorkflowId('file:///srv/hala/store2', KEY),
      claimWorkflowId('s3://bucket/hala', KEY),
      claimWorkflowId('file:///srv/hala/store', 'b'.repeat(64)),
    ]);
    expect(ids.size).toBe(4);
  });
});
