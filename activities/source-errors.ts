// Why a stage's raw source could not be read at stage open, typed for the retry policy.
import type { HalaErrorType } from '../contracts/errors';

/** The source cannot be identified as given: retrying will not help, the recipe or the set-up must change. */
export class SourceUnresolved extends Error {
  readonly halaType: HalaErrorType = 'BadInput';
  override readonly name = 'SourceUnresolved';
}

/** The hub did not answer (network, 5xx, rate limit): worth retrying. */
export class HubUnavailable extends Error {
  readonly halaType: HalaErrorType = 'StorageUnavailable';
  override readonly name = 'HubUnavailable';
}
