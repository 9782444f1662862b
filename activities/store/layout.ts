// Where everything lives below a store root: the one place that spells out the layout. Writers (the
// stage cache, lineage, reports) and readers (`hala lineage`, tests) all ask here.
//   stages/<stage>/<key16>/            what a stage writes (checkpoints, partial chunks, artifacts)
//   stages/<stage>/<key16>/forced-<run>/   the same, for a run forced with --no-cache / --rerun
//   cache/<key>.json                   the manifest that marks a stage finished (the cache entry)
//   lineage/<sha256>.json              who produced an artifact, and from what
//   campaigns/<id>/summary.json        a finished campaign's stages, artifacts and metrics
//   translation-cache/<namespace>/parts/<sha256>.json   a translated shard, found by content (contracts/translation-cache.ts)
import { joinUri } from './store-uri';

export const storeLayout = {
  /** Readable by a person, unique by key: a retry of the same work finds what an earlier attempt left. */
  stagePrefix: (root: string, stage: string, key: string) => joinUri(root, 'stages', stage, key.slice(0, 16)),
  /**
   * A forced run writes below a prefix of its own (named by its workflow run), so it adopts none of an
   * earlier run's checkpoints or partial chunks; its own retries share it and resume as usual.
   */
  forcedPrefix: (root: string, stage: string, key: string, runId: string) => joinUri(storeLayout.stagePrefix(root, stage, key), `forced-${runId}`),
  manifest: (root: string, key: string) => joinUri(root, 'cache', `${key}.json`),
  lineage: (root: string, sha256: string) => joinUri(root, 'lineage', `${sha256}.json`),
  campaignSummary: (root: string, campaignId: string) => joinUri(root, 'campaigns', campaignId, 'summary.json'),
  /** The pointers of one translation-cache namespace (model, prompt, engine, max_new_tokens), one per translated shard. */
  translationCacheParts: (root: string, namespace: string) => joinUri(root, 'translation-cache', namespace, 'parts'),
};
