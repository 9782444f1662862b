// A workflow replays only on the release it started on (contracts/version.ts): 0.3 dropped the
// branches that let code replay histories of 0.2 and before. Met on a newer worker, a campaign of
// an older release stops here with a message that says what to do, instead of a nondeterminism
// error further on. The error is a plain Error on purpose: it fails the workflow task, which
// Temporal retries, so the campaign stays open (and finishes) once a worker of its release serves it.
import { CODE_VERSION, releaseOf } from '../contracts/version';

export function requireOwnRelease(startedOn: string, workflow: string): void {
  if (releaseOf(startedOn) === releaseOf(CODE_VERSION)) return;
  throw new Error(
    `${workflow} started on Hala Flow ${startedOn}; this worker runs ${CODE_VERSION} and replays only release ${releaseOf(CODE_VERSION)}. ` +
      `Keep workers of ${startedOn} serving the queue until its campaigns end (deploy/README.md, "Upgrading"), then roll out ${CODE_VERSION}.`,
  );
}
