// CPU activities that finish a campaign's data: one training corpus from many translated sets,
// and the campaign summary written next to its artifacts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ArtifactRef } from '../contracts/artifact';
import type { ConcatConversationsInput, ConcatConversationsOutput, WriteCampaignReportInput } from './cpu-api';
import type { ArtifactStore } from './store';

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function createCampaignOutputActivities({ store }: { store: ArtifactStore }) {
  return {
    /** Concatenates conversation parquet files (id, messages) in the order given. */
    async concatConversations(input: ConcatConversationsInput): Promise<ConcatConversationsOutput> {
      const work = await mkdtemp(path.join(tmpdir(), 'hala-concat-'));
      try {
        const locals = await Promise.all(input.parts.map((p) => store.fetchToLocal(p)));
        const out = path.join(work, 'conversations.parquet');
        const db = await DuckDBInstance.create(':memory:');
        const conn = await db.connect();
        const union = locals
          .map((file, i) => `SELECT ${i} AS part, row_number() OVER () AS n, id, messages FROM read_parquet(${sqlString(file)})`)
          .join(' UNION ALL ');
        await conn.run(`COPY (SELECT id, messages FROM (${union}) ORDER BY part, n) TO ${sqlString(out)} (FORMAT parquet)`);
        const count = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(out)})`);
        const conversations = Number(count.getRows()[0]?.[0] ?? 0);
        conn.closeSync();
        const dataset = await store.putFile(out, `${input.output_prefix}/conversations.parquet`, 'dataset', conversations);
        return { dataset, conversations };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },

    async writeCampaignReport(input: WriteCampaignReportInput): Promise<ArtifactRef> {
      const uri = `${input.store_root.replace(/\/+$/, '')}/campaigns/${input.campaign_id}/summary.json`;
      const work = await mkdtemp(path.join(tmpdir(), 'hala-report-'));
      try {
        const file = path.join(work, 'summary.json');
        await writeFile(file, JSON.stringify(input.report, null, 2));
        return await store.putFile(file, uri, 'report');
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}
