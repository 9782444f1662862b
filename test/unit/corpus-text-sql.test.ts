import { DuckDBInstance } from '@duckdb/node-api';
import { expect, it } from 'vitest';
import { blankSql, nearDuplicateKeySql, scriptShareSql, trimmedSql } from '../../activities/corpus/text-sql';

// The faster expressions of text-sql.ts against the plain ones they replaced (one character per
// regex match, a trim by regex): the same value for every text, so the same pairs kept.
const SPACE = '[\\s\\p{Z}]';
const plain = {
  share: (c: string, cls: string) => {
    const letters = `regexp_replace(${c}, '\\P{L}', '', 'g')`;
    return `coalesce(length(regexp_replace(${letters}, '[^${cls}]', '', 'g')) / nullif(length(${letters}), 0), 0)`;
  },
  near: (c: string) => `trim(regexp_replace(regexp_replace(lower(${c}), '[\\p{P}\\p{N}]', '', 'g'), '${SPACE}+', ' ', 'g'))`,
  trim: (c: string) => `regexp_replace(${c}, '^${SPACE}+|${SPACE}+$', '', 'g')`,
  blank: (c: string) => `(${c} IS NULL OR regexp_replace(${c}, '^${SPACE}+|${SPACE}+$', '', 'g') = '')`,
};

const TEXTS = [
  null, '', ' ', '\t\n', '\u00a0\u3000\u2029', ' x ', '123 !?', 'Hello, world! (2)', 'the cat', 'Ⅻ books', 'naïve café', 'ǅemal',
  'a  b', 'a\tb', 'a\u00a0b', 'a \u3000 b', ' a', 'a ', 'a\u2028', 'a, b', 'a ,b', 'a (2) b', '\u200a', 'a\rb\n',
  'الكلمة عن القطط', 'كتب ٣', 'al-kalima كتب', 'Привет мир', '東京 tokyo', 'ａｂｃ', '\u00a0hello\u2003', 'x\u200by', '½ ¾',
];

it('gives the values of the plain regex expressions on every kind of text', async () => {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const values = TEXTS.map((t) => (t === null ? '(NULL)' : `('${t.replaceAll("'", "''")}')`)).join(', ');
    await conn.run(`CREATE TABLE t AS SELECT * FROM (VALUES ${values}) v(s)`);
    const checks = [
      [scriptShareSql('s', 'latin'), plain.share('s', '\\p{Latin}')],
      [scriptShareSql('s', 'arabic'), plain.share('s', '\\p{Arabic}')],
      [scriptShareSql('s', 'cjk'), plain.share('s', '\\p{Han}\\p{Hiragana}\\p{Katakana}\\p{Hangul}')],
      [nearDuplicateKeySql('s'), plain.near('s')],
      [blankSql('s'), plain.blank('s')],
      [trimmedSql('s'), plain.trim('s')],
    ];
    for (const [fast, reference] of checks) {
      const rows = (await conn.runAndReadAll(`SELECT s, ${fast} AS fast, ${reference} AS reference FROM t`)).getRowObjectsJson();
      expect(rows.length).toBe(TEXTS.length);
      for (const row of rows) expect({ s: row.s, v: row.fast }).toEqual({ s: row.s, v: row.reference });
    }
  } finally {
    conn.closeSync();
  }
});
