import path from 'node:path';
import { type ParquetSource, loadParquet, withCorpusDb } from './corpus-db';

export interface ConcatConversationsResult {
  /** parquet: id, messages, the parts one after the other, each in its own row order */
  datasetPath: string;
  conversations: number;
}

/**
 * One training corpus from the conversation sets of every instruction set. Each part is loaded on its
 * own, so the order is the order given (not the order of the files' local paths).
 */
export async function concatConversationSets(args: { parts: ParquetSource[]; workDir: string }): Promise<ConcatConversationsResult> {
  return withCorpusDb(args.workDir, async (db) => {
    const selects: string[] = [];
    for (const [i, part] of args.parts.entries()) {
      await loadParquet(db, [part], `part${i}`, [
        { name: 'id', expected: 'conversation id' },
        { name: 'messages', expected: 'list of {role, content}' },
      ]);
      selects.push(`SELECT ${i} AS part, ord, id, messages FROM part${i}`);
    }
    const datasetPath = path.join(args.workDir, 'conversations.parquet');
    const conversations = await db.writeParquet(`SELECT id, messages FROM (${selects.join(' UNION ALL ')}) ORDER BY part, ord`, datasetPath);
    return { datasetPath, conversations };
  });
}
