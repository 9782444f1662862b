import type { PrepareSegmentsInput } from '../../contracts/cpu-activities';
import { BadCorpusInput } from './bad-corpus-input';
import { type CorpusDb, type ParquetSource, type RequiredColumn, firstLine, loadParquet, sqlIdentifier } from './corpus-db';

export type SourceFormat = PrepareSegmentsInput['format'];
export type ColumnMapping = NonNullable<PrepareSegmentsInput['columns']>;

/** Open-Orca is the `columns` layout with fixed names and a required id. */
const OPEN_ORCA: ColumnMapping = { system: 'system_prompt', user: 'question', assistant: 'response' };

/** Turn-list layouts: the list column, the speaker and text fields, and speaker → role. */
const TURN_LISTS = {
  sharegpt: { column: 'conversations', speaker: 'from', text: 'value', roles: { system: 'system', human: 'user', gpt: 'assistant' } },
  messages: { column: 'messages', speaker: 'role', text: 'content', roles: { system: 'system', user: 'user', assistant: 'assistant' } },
} as const;

/**
 * Loads instruction rows into two temp tables:
 * - `conversations(ord, row_id)`: one per source row; row_id = the row's `id` as text, or its
 *   0-based position when the file has no id column;
 * - `turns(ord, row_id, turn, role, content, translatable)`: role is system / user / assistant, or
 *   NULL for a speaker the layout does not define; system prompts are never translatable, answers
 *   only when `translateResponses`.
 */
export async function loadConversationTurns(
  db: CorpusDb,
  source: ParquetSource,
  format: SourceFormat,
  options: { maxRows?: number; translateResponses: boolean; columns?: ColumnMapping },
): Promise<void> {
  if (format === 'open_orca') {
    await loadColumns(db, source, OPEN_ORCA, true, options.maxRows);
  } else if (format === 'columns') {
    if (!options.columns) {
      throw new BadCorpusInput(`${source.label}: format columns needs a column mapping {user, assistant}; add \`columns\` to the instruction set`);
    }
    await loadColumns(db, source, options.columns, false, options.maxRows);
  } else {
    await loadTurnList(db, source, TURN_LISTS[format], options.maxRows);
  }
  await db.run(
    `UPDATE turns SET translatable = CASE role WHEN 'user' THEN true WHEN 'assistant' THEN $answers ELSE false END`,
    { answers: options.translateResponses },
  );
}

async function loadSourceRows(db: CorpusDb, source: ParquetSource, required: RequiredColumn[], maxRows?: number): Promise<string> {
  const columns = await loadParquet(db, [source], 'source_rows', required, maxRows);
  const rowId = columns.has('id') ? 'CAST(id AS VARCHAR)' : 'CAST(ord AS VARCHAR)';
  await db.run(`CREATE TEMP TABLE conversations AS SELECT ord, ${rowId} AS row_id FROM source_rows`);
  return rowId;
}

/** One exchange per row from named columns: [system (when non-blank), user (+ input), assistant]. */
async function loadColumns(db: CorpusDb, source: ParquetSource, mapping: ColumnMapping, idRequired: boolean, maxRows?: number): Promise<void> {
  const required: RequiredColumn[] = [
    ...(idRequired ? [{ name: 'id', expected: 'row id' }] : []),
    ...(mapping.system ? [{ name: mapping.system, expected: 'system prompt, may be empty' }] : []),
    { name: mapping.user, expected: 'the user turn' },
    ...(mapping.input ? [{ name: mapping.input, expected: 'extra user input, may be empty' }] : []),
    { name: mapping.assistant, expected: 'the assistant turn' },
  ];
  const rowId = await loadSourceRows(db, source, required, maxRows);
  const text = (column: string) => `CAST(${sqlIdentifier(column)} AS VARCHAR)`;
  // Alpaca's `input` follows the instruction after a blank line, when there is one.
  const user = mapping.input
    ? `CASE WHEN coalesce(trim(${text(mapping.input)}), '') = '' THEN ${text(mapping.user)}
            ELSE ${text(mapping.user)} || chr(10) || chr(10) || ${text(mapping.input)} END`
    : text(mapping.user);
  const system = mapping.system
    ? `SELECT ord, ${rowId} AS row_id, 0 AS slot, 'system' AS role, ${text(mapping.system)} AS content
       FROM source_rows WHERE coalesce(trim(${text(mapping.system)}), '') <> '' UNION ALL`
    : '';
  await db.run(
    `CREATE TEMP TABLE turns AS
     SELECT ord, row_id, (row_number() OVER (PARTITION BY ord ORDER BY slot) - 1)::INTEGER AS turn,
            role, content, false AS translatable
     FROM (
       ${system}
       SELECT ord, ${rowId} AS row_id, 1 AS slot, 'user' AS role, ${user} AS content FROM source_rows
       UNION ALL
       SELECT ord, ${rowId}, 2, 'assistant', ${text(mapping.assistant)} FROM source_rows)`,
  );
}

/** A list column of {speaker, text} structs; turn = position in the list. */
async function loadTurnList(
  db: CorpusDb,
  source: ParquetSource,
  layout: (typeof TURN_LISTS)[keyof typeof TURN_LISTS],
  maxRows?: number,
): Promise<void> {
  const expected = `list<struct<${layout.speaker}, ${layout.text}>>`;
  const rowId = await loadSourceRows(db, source, [{ name: layout.column, expected }], maxRows);
  const roles = Object.entries(layout.roles).map(([speaker, role]) => `WHEN '${speaker}' THEN '${role}'`).join(' ');
  try {
    await db.run(
      `CREATE TEMP TABLE turns AS
       WITH exploded AS (
         SELECT ord, ${rowId} AS row_id, ${layout.column} AS list, unnest(range(len(${layout.column})))::INTEGER AS turn
         FROM source_rows),
       messages AS (SELECT ord, row_id, turn, list[turn + 1] AS message FROM exploded)
       SELECT ord, row_id, turn,
              CASE struct_extract(message, '${layout.speaker}') ${roles} END AS role,
              CAST(struct_extract(message, '${layout.text}') AS VARCHAR) AS content,
              false AS translatable
       FROM messages`,
    );
  } catch (error) {
    throw new BadCorpusInput(
      `${source.label}: column \`${layout.column}\` is not ${expected} (${firstLine(error)}); convert the file to that layout`,
    );
  }
}
