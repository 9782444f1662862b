// A small conversations dataset (parquet id, messages) written through DuckDB into a store: what the
// fake translate-instructions hands SFT, so gates sample real rows.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ArtifactRef } from '../../contracts/artifact';
import type { ArtifactStore } from '../../activities/store';
import { sql } from './duckdb-sql';

/** `tag` prefixes the ids: datasets of the same size written for different stages then differ (and so do their digests). */
export async function writeConversations(store: ArtifactStore, uri: string, rows: number, tag = ''): Promise<ArtifactRef> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hala-conversations-'));
  try {
    const file = path.join(dir, 'all.parquet');
    await sql(`COPY (SELECT '${tag.replace(/'/g, "''")}c' || i AS id,
                       [{'role': 'user', 'content': 'question ' || i}, {'role': 'assistant', 'content': 'جواب ' || i}] AS messages
                FROM range(${rows}) t(i) ORDER BY i) TO '${file}' (FORMAT parquet)`);
    return await store.putFile(file, uri, 'dataset', rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
