import type { PrepareSegmentsInput } from '../../contracts/cpu-activities';
import { BadCorpusInput } from './bad-corpus-input';
import { type CorpusDb, type ParquetSource, type RequiredColumn, firstLine, loadParquet, sqlIdentifier, sqlString } from './corpus-db';

export type SourceFormat = PrepareSegmentsInput['format'];
export type ColumnMapping = NonNullable<PrepareSegmentsInput['columns']>;

export interface ConversationOptions {
  maxRows?: number;
  translateResponses: boolean;
  columns?: ColumnMapping;
  /** The list column of a turn-list format, when not the format's usual one (ReAlign-Alpaca: `items`). */
  turnsColumn?: string;
  /** Rows whose `source` column is one of these are marked `excluded` (Tulu-3's multilingual subsets). */
  excludeSources?: string[];
}

/** Open-Orca is the `columns` layout with fixed names and a required id. */
const OPEN_ORCA: ColumnMapping = { system: 'system_prompt', user: 'question', assistant: 'response' };

/**
 * Turn-list layouts: the list column, the speaker and text fields, and speaker → role. ShareGPT's
 * human / gpt must become user / assistant here: TRL's chat templates and its assistant-only loss
 * know only those names, and its own ShareGPT converter leaves the speakers as they are.
 */
const TURN_LISTS = {
  sharegpt: { column: 'conversations', speaker: 'from', text: 'value', roles: { system: 'system', human: 'user', gpt: 'assistant' } },
  messages: { column: 'messages', speaker: 'role', text: 'content', roles: { system: 'system', user: 'user', assistant: 'assistant' } },
} as const;
type TurnList = { column: string; speaker: string; text: string; roles: Readonly<Record<string, string>> };

/** The column `exclude_sources` reads (Tulu-3 names each row's subset there). */
const SOURCE_COLUMN = 'source';

/**
 * Loads instruction rows into two temp tables:
 * - `conversations(ord, row_id, excluded)`: one per source row; row_id = the row's `id` as text, or
 *   its 0-based position (files in name order, rows in file order) when the file has no id column;
 *   excluded = its `source` is one of `excludeSources`;
 * - `turns(ord, row_id, turn, role, content, translatable)`: role is system / user / assistant, or
 *   NULL for a speaker the layout does not define; system prompts are never translatable, answers
 *   only when `translateResponses`.
 * Only the columns the layout names (and `id`, `source`) are read from the files.
 */
export async function loadConversationTurns(db: CorpusDb, source: ParquetSource, format: SourceFormat, options: ConversationOptions): Promise<void> {
  if (format === 'open_orca') {
    await loadColumns(db, source, OPEN_ORCA, true, options);
  } else if (format === 'columns') {
    if (!options.columns) {
      throw new BadCorpusInput(`${source.label}: format columns needs a column mapping {user, assistant}; add \`columns\` to the instruction set`);
    }
    await loadColumns(db, source, options.columns, false, options);
  } else {
    const layout: TurnList = { ...TURN_LISTS[format], ...(options.turnsColumn ? { column: options.turnsColumn } : {}) };
    await loadTurnList(db, source, layout, options);
  }
  await db.run(
    `UPDATE turns SET translatable = CASE role WHEN 'user' THEN true WHEN 'assistant' THEN $answers ELSE false END`,
    { answers: options.translateResponses },
  );
}

async function loadSourceRows(db: CorpusDb, source: ParquetSource, required: RequiredColumn[], options: ConversationOptions): Promise<string> {
  const excluded = options.excludeSources ?? [];
  const needed: RequiredColumn[] = excluded.length
    ? [...required, { name: SOURCE_COLUMN, expected: 'the subset each row comes from, which exclude_sources reads' }]
    : required;
  const columns = await loadParquet(db, [source], 'source_rows', needed, options.maxRows, { optional: ['id'] });
  const rowId = columns.has('id') ? 'CAST(id AS VARCHAR)' : 'CAST(ord AS VARCHAR)';
  const isExcluded = excluded.length ? `coalesce(CAST(${SOURCE_COLUMN} AS VARCHAR) IN (${excluded.map(sqlString).join(', ')}), false)` : 'false';
  await db.run(`CREATE TEMP TABLE conversations AS SELECT ord, ${rowId} AS row_id, ${isExcluded} AS excluded FROM source_rows`);
  return rowId;
}

/** One exchange per row from named columns: [system (when non-blank), user (+ input), assistant]. */
async function loadColumns(db: CorpusDb, source: ParquetSource, mapping: ColumnMapping, idRequired: boolean, options: ConversationOptions): Promise<void> {
  const required: RequiredColumn[] = [
    ...(idRequired ? [{ name: 'id', expected: 'row id' }] : []),
    ...(mapping.system ? [{ name: mapping.system, expected: 'system prompt, may be empty' }] : []),
    { name: mapping.user, expected: 'the user turn' },
    ...(mapping.input ? [{ name: mapping.input, expected: 'extra user input, may be empty' }] : []),
    { name: mapping.assistant, expected: 'the assistant turn' },
  ];
  const rowId = await loadSourceRows(db, source, required, options);
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

/**
 * A list column of {speaker, text} structs; turn = position in the list. Other struct fields
 * (ShareGPT's `weight`, ReAlign's `category`) are not read. A NULL or empty list gives no turns.
 */
async function loadTurnList(db: CorpusDb, source: ParquetSource, layout: TurnList, options: ConversationOptions): Promise<void> {
  const expected = `list<struct<${layout.speaker}, ${layout.text}>>`;
  const rowId = await loadSourceRows(db, source, [{ name: layout.column, expected }], options);
  const roles = Object.entries(layout.roles).map(([speaker, role]) => `WHEN ${sqlString(speaker)} THEN ${sqlString(role)}`).join(' ');
  const list = sqlIdentifier(layout.column);
  try {
    // unnest and generate_subscripts walk the list in step: one row per turn, without copying the
    // whole list into each of them.
    await db.run(
      `CREATE TEMP TABLE turns AS
       WITH messages AS (
         SELECT ord, ${rowId} AS row_id, unnest(${list}) AS message, (generate_subscripts(${list}, 1) - 1)::INTEGER AS turn
         FROM source_rows)
       SELECT ord, row_id, turn,
              CASE struct_extract(message, ${sqlString(layout.speaker)}) ${roles} END AS role,
              CAST(struct_extract(message, ${sqlString(layout.text)}) AS VARCHAR) AS content,
              false AS translatable
       FROM messages`,
    );
  } catch (error) {
    throw new BadCorpusInput(
      `${source.label}: column \`${layout.column}\` is not ${expected} (${firstLine(error)}); convert the file to that layout`,
    );
  }
}
