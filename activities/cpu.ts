// The TypeScript activities of the CPU queue (contracts/cpu-activities.ts): the data plane.
// Each one parses its input, resolves sources to local files, runs a pure corpus function
// (activities/corpus) and publishes what it wrote under `output_prefix`. Registered by the CPU worker:
//   Worker.create({ activities: createCpuActivities({ store }), taskQueue: 'hala-cpu', ... })
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ArtifactRef } from '../contracts/artifact';
import {
  AssembleBilingualInput,
  type AssembleBilingualOutput,
  AssembleConversationsInput,
  type AssembleConversationsOutput,
  ConcatConversationsInput,
  type ConcatConversationsOutput,
  type Decontamination,
  FilterOpusInput,
  type FilterOpusOutput,
  type OutputLanguageCheck,
  type PairLanguageCheck,
  PrepareSegmentsInput,
  type PrepareSegmentsOutput,
  PrepareTranslationDevInput,
  type PrepareTranslationDevOutput,
} from '../contracts/cpu-activities';
import { nonRetryableErrorTypes } from '../contracts/errors';
import type { Progress } from '../contracts/progress';
import {
  BadCorpusInput,
  type ParquetSource,
  assembleBilingualCorpus,
  assembleTranslatedConversations,
  concatConversationSets,
  filterOpusPairs,
  prepareSegmentShards,
  prepareTranslationDevSet,
} from './corpus';
import type { DecontaminationArgs } from './corpus/decontaminate';
import type { LanguageCheckArgs } from './corpus/language-check';
import { parseOrBadInput } from './parse-input';
import { expandRefLists, saveRefList } from './ref-lists';
import { type ArtifactStore, activeHubMirror, joinUri, resolveSource } from './store';

export interface CpuActivityDeps {
  store: ArtifactStore;
  /** Where scratch dirs go (removed after each activity); default the OS temp dir. */
  workRoot?: string;
  /** Local hub mirror for hf:// sources; default $HALA_HUB_MIRROR. */
  hubMirror?: string;
}

export function createCpuActivities({ store, workRoot, hubMirror }: CpuActivityDeps) {
  const fromSource = async (uri: string): Promise<ParquetSource> => ({
    path: await resolveSource(uri, store, activeHubMirror(hubMirror)),
    label: uri,
  });
  // Artifacts from earlier stages are verified against their sha256 on the way in.
  const fromRef = async (ref: ArtifactRef): Promise<ParquetSource> => ({ path: await store.fetchToLocal(ref), label: ref.uri });
  const publish = (localPath: string, prefix: string, rows: number, under = '') =>
    store.putFile(localPath, joinUri(prefix, ...(under ? [under] : []), path.basename(localPath)), 'dataset', rows);
  const evalSets = async (d: Decontamination | undefined): Promise<DecontaminationArgs | undefined> =>
    d && {
      ngram: d.ngram,
      language: d.language,
      evalSets: await Promise.all(d.eval_sets.map(async (e) => ({ name: e.name, format: e.format, source: await fromSource(e.uri) }))),
    };
  /** A language check with its fastText model file, if it names one, on local disk: from the store or the hub mirror, never the hub. */
  const languageCheck = async (check: PairLanguageCheck | OutputLanguageCheck | undefined): Promise<LanguageCheckArgs | undefined> => {
    if (!check) return undefined;
    if (check.model === 'builtin') return { check };
    const uri = check.model.fasttext;
    const modelPath = await resolveSource(uri, store, activeHubMirror(hubMirror));
    if (/^[a-z0-9]+:\/\//i.test(modelPath)) {
      throw new BadCorpusInput(
        `language_id.model.fasttext ${uri} would be downloaded from the hub (no hub mirror is set), and nothing is downloaded at run time: ` +
          'stage the model file in the store (s3:// or file://) or in the hub mirror (HALA_HUB_MIRROR)',
      );
    }
    return { check, modelPath };
  };
  /** The quarantine of wrong-language rows, next to the dataset, when there is one. */
  const publishWrongLanguage = async (result: { wrongLanguagePath?: string }, prefix: string, rows: number) => {
    if (result.wrongLanguagePath) await publish(result.wrongLanguagePath, prefix, rows);
  };
  /** The quarantine of rows that repeat evaluation texts, next to the dataset, when there is one. */
  const publishDecontaminated = async (result: { decontaminatedPath?: string; decontaminated: Record<string, number> }, prefix: string) => {
    if (result.decontaminatedPath) await publish(result.decontaminatedPath, prefix, sum(result.decontaminated));
  };

  return {
    async filterOpus(raw: FilterOpusInput): Promise<FilterOpusOutput> {
      const input = parseOrBadInput(FilterOpusInput, raw, 'filterOpus');
      return runInWorkDir('filterOpus', workRoot, async (workDir) => {
        const opus = await fromSource(input.opus);
        const languageId = await languageCheck(input.language_id);
        const result = await filterOpusPairs({ opus, language: input.language, filters: input.filters, languageId, workDir });
        const pairs = await publish(result.pairsPath, input.output_prefix, result.counts.kept);
        await publishWrongLanguage(result, input.output_prefix, result.counts.source_language + result.counts.target_language);
        return { pairs, counts: result.counts };
      });
    },

    async prepareSegments(raw: PrepareSegmentsInput): Promise<PrepareSegmentsOutput> {
      const input = parseOrBadInput(PrepareSegmentsInput, raw, 'prepareSegments');
      return runInWorkDir('prepareSegments', workRoot, async (workDir) => {
        const result = await prepareSegmentShards({
          source: await fromSource(input.source),
          workDir,
          format: input.format,
          columns: input.columns,
          turnsColumn: input.turns_column,
          excludeSources: input.exclude_sources,
          maxRows: input.max_rows,
          translateResponses: input.translate_responses,
          dropCode: input.drop_code,
          maxSegmentChars: input.max_segment_chars,
          shardRows: input.shard_rows,
        });
        const rows = await publish(result.rowsPath, input.output_prefix, result.turnCount);
        const shards: ArtifactRef[] = [];
        for (const shard of result.shards) shards.push(await publish(shard.path, input.output_prefix, shard.rows, 'shards'));
        if (result.quarantinePath) await publish(result.quarantinePath, input.output_prefix, sum(result.quarantined));
        return {
          rows,
          // Thousands of shards at paper scale: the workflow gets one reference to the list.
          shard_list: await saveRefList(store, joinUri(input.output_prefix, 'shards.json'), shards),
          shard_count: shards.length,
          row_count: result.rowCount,
          segment_count: result.segmentCount,
          quarantined: result.quarantined,
        };
      });
    },

    async assembleConversations(raw: AssembleConversationsInput): Promise<AssembleConversationsOutput> {
      const input = parseOrBadInput(AssembleConversationsInput, raw, 'assembleConversations');
      return runInWorkDir('assembleConversations', workRoot, async (workDir) => {
        const translations: ParquetSource[] = [];
        for (const ref of await expandRefLists(store, input.translation_lists)) translations.push(await fromRef(ref));
        const result = await assembleTranslatedConversations({
          rows: await fromRef(input.rows),
          translations,
          decontamination: await evalSets(input.decontamination),
          languageId: await languageCheck(input.language_id),
          workDir,
        });
        await publishDecontaminated(result, input.output_prefix);
        await publishWrongLanguage(result, input.output_prefix, result.wrongLanguage);
        return {
          dataset: await publish(result.datasetPath, input.output_prefix, result.conversations),
          conversations: result.conversations,
          missing_translations: result.missingTranslations,
          decontaminated: result.decontaminated,
          wrong_language: result.wrongLanguage,
        };
      });
    },

    async assembleBilingual(raw: AssembleBilingualInput): Promise<AssembleBilingualOutput> {
      const input = parseOrBadInput(AssembleBilingualInput, raw, 'assembleBilingual');
      return runInWorkDir('assembleBilingual', workRoot, async (workDir) => {
        const teacherTranslations: ParquetSource[] = [];
        for (const ref of await expandRefLists(store, input.teacher_translation_lists)) teacherTranslations.push(await fromRef(ref));
        const result = await assembleBilingualCorpus({
          opusPairs: await fromRef(input.opus_pairs),
          teacherTranslations,
          language: input.language,
          bothDirections: input.both_directions,
          promptTemplate: input.prompt_template,
          seed: input.seed,
          decontamination: await evalSets(input.decontamination),
          languageId: await languageCheck(input.language_id),
          workDir,
        });
        await publishDecontaminated(result, input.output_prefix);
        await publishWrongLanguage(result, input.output_prefix, result.wrongLanguage);
        if (result.untranslated > 0) {
          Context.current().log.warn('teacher segments with a blank translation were left out', { count: result.untranslated });
        }
        return {
          dataset: await publish(result.datasetPath, input.output_prefix, result.examples),
          pairs: result.pairs,
          examples: result.examples,
          by_origin: result.byOrigin,
          untranslated: result.untranslated,
          decontaminated: result.decontaminated,
          wrong_language: result.wrongLanguage,
        };
      });
    },

    async concatConversations(raw: ConcatConversationsInput): Promise<ConcatConversationsOutput> {
      const input = parseOrBadInput(ConcatConversationsInput, raw, 'concatConversations');
      return runInWorkDir('concatConversations', workRoot, async (workDir) => {
        const parts: ParquetSource[] = [];
        for (const ref of input.parts) parts.push(await fromRef(ref));
        const result = await concatConversationSets({ parts, workDir });
        return { dataset: await publish(result.datasetPath, input.output_prefix, result.conversations), conversations: result.conversations };
      });
    },

    async prepareTranslationDev(raw: PrepareTranslationDevInput): Promise<PrepareTranslationDevOutput> {
      const input = parseOrBadInput(PrepareTranslationDevInput, raw, 'prepareTranslationDev');
      return runInWorkDir('prepareTranslationDev', workRoot, async (workDir) => {
        const result = await prepareTranslationDevSet({ dev: await fromSource(input.dev), language: input.language, rows: input.rows, workDir });
        return {
          segments: await publish(result.segmentsPath, input.output_prefix, result.rows),
          references: await publish(result.referencesPath, input.output_prefix, result.rows),
          rows: result.rows,
        };
      });
    },
  };
}

/**
 * Runs one activity body in a scratch dir that is always removed, heartbeating while it works
 * (DuckDB queries cannot heartbeat themselves), and maps typed errors (store, corpus) onto
 * non-retryable ApplicationFailures. Untyped errors stay retryable: storage hiccups heal.
 */
export async function runInWorkDir<T>(activity: string, workRoot: string | undefined, body: (workDir: string) => Promise<T>): Promise<T> {
  const workDir = await mkdtemp(path.join(workRoot ?? os.tmpdir(), `hala-${activity}-`));
  const stopHeartbeat = keepHeartbeating(activity);
  try {
    return await body(workDir);
  } catch (error) {
    throw asFailure(activity, error);
  } finally {
    stopHeartbeat();
    await rm(workDir, { recursive: true, force: true });
  }
}

function asFailure(activity: string, error: unknown): unknown {
  const type = (error as { halaType?: string } | undefined)?.halaType;
  if (error instanceof Error && type && nonRetryableErrorTypes.includes(type)) {
    return ApplicationFailure.create({ type, nonRetryable: true, message: `${activity}: ${error.message}`, cause: error });
  }
  return error;
}

const HEARTBEAT_EVERY_MS = 5000;

function keepHeartbeating(phase: string): () => void {
  const context = Context.current();
  const progress: Progress = { phase, done: 0, total: 0, checkpoint_uri: null, metrics: {} };
  context.heartbeat(progress);
  const timer = setInterval(() => context.heartbeat(progress), HEARTBEAT_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
