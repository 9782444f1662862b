// Long lists of artifact references (one per translation shard: thousands at paper scale) live in
// the store, not in workflow payloads: a fan-out that carried them inline through continue-as-new
// and back to its parent would pass ~0.5 KB per shard, past Temporal's 2 MB payload limit at a
// few thousand shards. Workflows hold one reference per list and read it a page at a time.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ArtifactRef } from '../contracts/artifact';
import { LoadRefPageInput, SaveRefListInput } from '../contracts/ref-lists';
import { parseOrBadInput } from './parse-input';
import { type ArtifactStore, sha256Hex } from './store';

const RefListFile = z.object({ refs: z.array(ArtifactRef) });

/** Writes `refs` as JSON at `uri` (atomically, like every store write) and returns its reference. */
export async function saveRefList(store: ArtifactStore, uri: string, refs: ArtifactRef[]): Promise<ArtifactRef> {
  const text = JSON.stringify({ refs });
  await store.putBytes(uri, text);
  return { uri, sha256: sha256Hex(text), kind: 'report', bytes: Buffer.byteLength(text), rows: refs.length };
}

/** Every reference of a list, after checking the file is the one the reference names. */
export async function loadRefList(store: ArtifactStore, list: ArtifactRef): Promise<ArtifactRef[]> {
  const bytes = await store.getBytes(list.uri);
  const digest = sha256Hex(bytes);
  if (digest !== list.sha256) {
    throw ApplicationFailure.nonRetryable(`${list.uri}: sha256 ${digest.slice(0, 12)}… does not match the reference ${list.sha256.slice(0, 12)}…; the list changed after it was written; rerun its stage`, 'ArtifactCorrupt');
  }
  return RefListFile.parse(JSON.parse(bytes.toString('utf8'))).refs;
}

/** The references of several lists, in order. */
export async function expandRefLists(store: ArtifactStore, lists: ArtifactRef[]): Promise<ArtifactRef[]> {
  const pages = await Promise.all(lists.map((l) => loadRefList(store, l)));
  return pages.flat();
}

export function createRefListActivities({ store }: { store: ArtifactStore }) {
  return {
    async saveRefList(raw: SaveRefListInput): Promise<ArtifactRef> {
      const input = parseOrBadInput(SaveRefListInput, raw, 'saveRefList');
      return saveRefList(store, input.uri, input.refs);
    },
    /** References `start` .. `start + count - 1` of a list; BadInput if the list is shorter. */
    async loadRefPage(raw: LoadRefPageInput): Promise<ArtifactRef[]> {
      const input = parseOrBadInput(LoadRefPageInput, raw, 'loadRefPage');
      const refs = await loadRefList(store, input.list);
      if (input.start + input.count > refs.length) {
        throw ApplicationFailure.nonRetryable(`loadRefPage: ${input.list.uri} holds ${refs.length} references; asked for ${input.start}..${input.start + input.count - 1}`, 'BadInput');
      }
      return refs.slice(input.start, input.start + input.count);
    },
  };
}
