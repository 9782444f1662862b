// Loaded by path (DataConverter.failureConverterPath) into the workflow sandbox and by clients:
// failure messages and stack traces go through the payload codec like any payload, because a
// runner's error may quote a corpus row or the tail of its stderr.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
