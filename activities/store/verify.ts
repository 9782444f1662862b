import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactRef } from '../../contracts/artifact';
import { directoryManifest, fileSha256, MANIFEST_NAME } from './digest';
import { ArtifactCorrupt } from './errors';

/** Checks a local copy against its reference, as store.py `verify` does. */
export async function verifyLocalCopy(localPath: string, ref: ArtifactRef): Promise<void> {
  let actual: string;
  if ((await stat(localPath)).isDirectory()) {
    const manifestExists = await stat(path.join(localPath, MANIFEST_NAME)).then(() => true, () => false);
    if (!manifestExists) {
      throw new ArtifactCorrupt(`${ref.uri} has no ${MANIFEST_NAME}: it was never finished; rerun its stage`);
    }
    actual = (await directoryManifest(localPath)).sha256;
  } else {
    actual = await fileSha256(localPath);
  }
  if (actual !== ref.sha256) {
    throw new ArtifactCorrupt(
      `${ref.uri}: sha256 ${actual.slice(0, 12)}… does not match the reference ${ref.sha256.slice(0, 12)}…; ` +
        'the artifact changed after it was produced: rerun the stage that produced it',
    );
  }
}
