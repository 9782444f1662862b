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

/** A typed source error said again with the recipe field in front: same name, same failure type. */
class FieldNamed extends Error {
  constructor(
    readonly halaType: HalaErrorType,
    name: string,
    message: string,
    cause: Error,
  ) {
    super(message, { cause });
    this.name = name;
  }
}

/**
 * `error` said again after the recipe field(s) that hold `uri` ("stages.sft.students[3].base = hf://…: …"),
 * so the operator knows which line of the recipe to change. A new error: the hub lookup hands one
 * rejection to every stage asking about the same commit, each naming its own field. Untyped errors
 * and those that already name their field are returned as they are.
 */
export function namingField(error: unknown, uri: string, checks: readonly { uri: string; field: string }[]): unknown {
  const fields = [...new Set(checks.filter((c) => c.uri === uri).map((c) => c.field))];
  const type = (error as { halaType?: HalaErrorType } | undefined)?.halaType;
  if (!(error instanceof Error) || !type || fields.length === 0) return error;
  if (fields.some((f) => error.message.startsWith(f))) return error;
  const named = fields.join(' and ');
  const message = error.message.startsWith(uri) ? `${named} = ${error.message}` : `${named} = ${uri}: ${error.message}`;
  return new FieldNamed(type, error.name, message, error);
}
