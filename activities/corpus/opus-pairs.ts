import type { Language } from '../../contracts/recipe';
import { BadCorpusInput } from './bad-corpus-input';
import { type CorpusDb, type ParquetSource, loadParquet } from './corpus-db';

/** The two OPUS column names: all that reading pairs needs of the language. */
export type LanguagePair = Pick<Language, 'source' | 'target'>;

/** Language codes are spliced into SQL as struct field names: keep them to what OPUS uses. */
function languageField(code: string, knob: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(code)) {
    throw new BadCorpusInput(`language.${knob} ${JSON.stringify(code)} is not a language code (letters, digits, '-' or '_')`);
  }
  return code;
}

/** A pair's id, from its `ord`: its 0-based position in the source, as text (OPUS rows carry no id). */
export const opusPairIdSql = (ord: string) => `CAST(${ord} AS VARCHAR)`;

/**
 * Loads OPUS-layout pairs (`translation` struct {<source>, <target>}) into temp table `pairs`:
 * ord, id (the 0-based position in the source, as text: OPUS rows carry no id), source, target.
 */
export async function loadOpusPairs(
  db: CorpusDb,
  opus: ParquetSource,
  language: LanguagePair,
  limit?: number,
  /** 'view': `pairs` reads the files when queried, unordered (order by ord); for a caller that reads it once. */
  kind: 'table' | 'view' = 'table',
): Promise<void> {
  const source = languageField(language.source, 'source');
  const target = languageField(language.target, 'target');
  const columns = await loadParquet(
    db,
    [opus],
    'opus_raw',
    [{ name: 'translation', expected: `struct {${language.source}, ${language.target}}` }],
    limit,
    undefined,
    kind,
  );
  try {
    await db.run(
      `CREATE OR REPLACE TEMP ${kind === 'view' ? 'VIEW' : 'TABLE'} pairs AS
       SELECT ord, ${opusPairIdSql('ord')} AS id,
              CAST(struct_extract(translation, '${source}') AS VARCHAR) AS source,
              CAST(struct_extract(translation, '${target}') AS VARCHAR) AS target
       FROM opus_raw ${kind === 'view' ? '' : 'ORDER BY ord'}`,
    );
    if (kind === 'view') await db.run('DESCRIBE pairs'); // a view binds its fields when read: fail here, as the table would
  } catch {
    throw new BadCorpusInput(
      `${opus.label}: column \`translation\` is ${columns.get('translation')}, without the fields ` +
        `${language.source} and ${language.target}; set recipe language.source / language.target to codes it has`,
    );
  }
  if (kind === 'table') await db.run('DROP TABLE opus_raw');
}

