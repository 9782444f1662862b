import type { HalaErrorType } from '../../contracts/errors';

/**
 * Input data the corpus functions cannot use: a missing or unreadable parquet file, a missing column,
 * a language code that is not in the data. Never heals by retrying, so activities report it as
 * BadInput; the message names the file (its URI), the column and the fix.
 */
export class BadCorpusInput extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'BadCorpusInput';
}
