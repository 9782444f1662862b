/**
 * Part of every stage key, and the release a campaign runs on. Bump the patch for a change that
 * keeps keys and replays every history of this release (behind `patched()`); bump the minor when a
 * stage's output for the same input changes or a workflow can no longer replay an older history.
 */
export const CODE_VERSION = '0.5.0';

/** The release of a code version: its major and minor (0.3.1 -> 0.3). Histories replay within one release. */
export const releaseOf = (version: string) => version.split('.').slice(0, 2).join('.');
