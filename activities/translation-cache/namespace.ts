import { createHash } from 'node:crypto';
import type { TranslationCacheIdentity } from '../../contracts/translation-cache';

/**
 * The cache namespace: sha256 over exactly the knobs that change a row's translation, in a fixed
 * order (an array, so no key order can move it). Batch size, tensor parallelism and error budgets
 * are left out on purpose: they change how rows are sent, not what comes back.
 */
export function translationCacheNamespace(identity: TranslationCacheIdentity): string {
  const material = ['hala-translation-cache/1', identity.model_sha256, identity.prompt_template, identity.engine, identity.max_new_tokens];
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}
