// Recording stand-ins for the data-plane and GPU activities, for workflow tests only: they let a
// test see what the workflows ask for, in which order and how concurrently, in milliseconds.
// The real activities are exercised by their own suites and by test/e2e.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ArtifactRef } from '../../contracts/artifact';
import type { ActivityRun, LossHistory } from '../../contracts/gpu-activities';
import type { Progress } from '../../contracts/progress';
import type { GpuActivityFns } from '../../contracts/gpu-activity-fns';
import type { CpuActivityFns } from '../../contracts/cpu-activity-fns';
import { loadRefList, saveRefList } from '../../activities/ref-lists';
import { writeConversations } from './conversations-parquet';
import type { ArtifactStore } from '../../activities/store';

export interface Call {
  name: string;
  input: Record<string, unknown>;
  start: number;
  end?: number;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ref = (uri: string, kind: ArtifactRef['kind'] = 'dataset', rows = 10): ArtifactRef => ({ uri, sha256: sha(uri), kind, bytes: 100, rows });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What the Python activity wrapper would attach to an output: identity and attempt from the Temporal
 * context the fake runs in, one GPU held for the call's wall time.
 */
function fakeRun(name: string, start: number, end: number): ActivityRun {
  const info = Context.current().info;
  const seconds = (end - start) / 1000;
  return {
    activity: name,
    activity_id: info.activityId,
    attempt: info.attempt,
    worker: `${process.pid}@fake-gpu`,
    device: 'cuda x1',
    gpus: 1,
    started_at: new Date(start).toISOString(),
    ended_at: new Date(end).toISOString(),
    seconds,
    gpu_seconds: seconds,
  };
}

export interface RecordingOptions {
  delayMs?: number;
  shards?: number;
  /** Calls for which this returns true fail on their first attempt (a preempted GPU), then succeed. */
  flaky?: (name: string, input: Record<string, unknown>) => boolean;
  /** Calls for which this returns true fail for good, as a runner with a bug does (RunnerFailed, final). */
  fails?: (name: string, input: Record<string, unknown>) => boolean;
  /** Rows of a translate_shard call the fake engine raises on alone: quarantined, the shard completes without them. */
  poison?: (input: Record<string, unknown>) => number;
  /** prepareSegments hands its shards over as a real list in it (as the real one does). */
  store: ArtifactStore;
  /**
   * Calls for which `when` holds wait (up to 10 s) until `count` of them have arrived, so "these run
   * at once" is checked without racing the clock: run one after the other, the first one times out
   * alone and the calls do not overlap.
   */
  meet?: { count: number; when: (name: string, input: Record<string, unknown>) => boolean }[];
  /**
   * Fields to put over a call's usual output, by activity name, given its input: the figures a test
   * wants a stage to report (a 46-pair corpus, an FP8 teacher that lost chrF++).
   */
  outputs?: Record<string, (input: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>>;
}

/**
 * Wait `ms` in ten steps, heartbeating Progress after each as a real runner does (done rising to
 * total; a falling loss for training), so watchers of pending activities see work move.
 */
async function paced(name: string, ms: number): Promise<void> {
  const total = 10;
  for (let done = 1; done <= total; done++) {
    await sleep(ms / total);
    const metrics: Record<string, number> = name.startsWith('train') ? { loss: 2 / done } : {};
    Context.current().heartbeat({ phase: name, done, total, checkpoint_uri: null, metrics } satisfies Progress);
  }
}

/** The CPU activities the fakes stand in for (the rest are real in the harness). */
export type DataPlane = Omit<CpuActivityFns, 'openStage' | 'closeStage' | 'writeCampaignReport' | 'saveRefList' | 'loadRefPage' | 'previewGate' | 'queuePollers' | 'deploymentTarget' | 'doctorCpuProbe' | 'stageClaimHolder' | 'awaitStageClaim'>;

export function recordingActivities(opts: RecordingOptions) {
  const calls: Call[] = [];
  const delay = opts.delayMs ?? 50;
  const met = (opts.meet ?? []).map(() => 0);
  const meet = async (name: string, input: Record<string, unknown>) => {
    const group = (opts.meet ?? []).findIndex((g) => g.when(name, input));
    if (group < 0) return;
    met[group]! += 1;
    for (const deadline = Date.now() + 10_000; met[group]! < opts.meet![group]!.count && Date.now() < deadline; ) await sleep(20);
  };
  const record = <I extends object, O>(name: string, body: (input: I, call: Call) => O | Promise<O>) =>
    async (input: I): Promise<O> => {
      const call: Call = { name, input: input as Record<string, unknown>, start: Date.now() };
      calls.push(call);
      await meet(name, call.input);
      await paced(name, delay);
      call.end = Date.now();
      if (opts.flaky?.(name, call.input) && Context.current().info.attempt === 1) throw new Error(`${name}: preempted (fake)`);
      if (opts.fails?.(name, call.input)) throw ApplicationFailure.nonRetryable(`${name}: ZeroDivisionError: division by zero (fake)`, 'RunnerFailed');
      return { ...(await body(input, call)), ...(await opts.outputs?.[name]?.(call.input)) } as O;
    };
  // GPU stand-ins also report how they ran, as every Python activity does.
  const gpuRecord = <I extends object, O extends object>(name: string, body: (input: I) => O | Promise<O>) =>
    record<I, O & { run: ActivityRun }>(name, async (input, call) => ({ ...(await body(input)), run: fakeRun(name, call.start, call.end!) }));

  const cpu: DataPlane = {
    filterOpus: record('filterOpus', (i) => ({
      pairs: ref(`${i.output_prefix}/pairs.parquet`),
      counts: { read: 10, kept: 8, empty: 1, identical: 1, too_short: 0, too_long: 0, length_ratio: 0, source_script: 0, target_script: 0, exact_duplicate: 0, near_duplicate: 0, source_language: 0, target_language: 0 },
    })),
    prepareSegments: record('prepareSegments', async (i) => {
      const shards = Array.from({ length: opts.shards ?? 3 }, (_, k) => ref(`${i.output_prefix}/shard-${k}.parquet`));
      const shard_list = await saveRefList(opts.store, `${i.output_prefix}/shards.json`, shards);
      return { rows: ref(`${i.output_prefix}/rows.parquet`), shard_list, shard_count: shards.length, row_count: 10, segment_count: 20, quarantined: {} };
    }),
    // A cold translation cache: every shard passes through (the real split needs real segment shards;
    // test/workflow/translation-cache.test.ts runs it on the tiny world's).
    splitTranslationCache: record('splitTranslationCache', async (i) => {
      const shards = await loadRefList(opts.store, i.shard_list);
      const namespace = sha(JSON.stringify(i.identity));
      return {
        namespace, parts_prefix: `${i.store_root}/translation-cache/${namespace}/parts`,
        hit_list: await saveRefList(opts.store, `${i.output_prefix}/hits.json`, []), hit_rows: 0,
        miss_list: i.shard_list, miss_count: shards.length, miss_rows: shards.reduce((n, s) => n + (s.rows ?? 0), 0),
        duplicate_rows: 0, parts: 0, skipped_parts: 0, hit_sources: [],
      };
    }),
    assembleConversations: record('assembleConversations', (i) => ({ dataset: ref(`${i.output_prefix}/c.parquet`), conversations: 10, missing_translations: 0, decontaminated: {}, wrong_language: 0 })),
    assembleBilingual: record('assembleBilingual', (i) => ({ dataset: ref(`${i.output_prefix}/b.parquet`), pairs: 10, examples: 20, by_origin: { opus: 8, open_orca: 2 }, untranslated: 0, decontaminated: {}, wrong_language: 0 })),
    prepareTranslationDev: record('prepareTranslationDev', (i) => ({ segments: ref(`${i.output_prefix}/s.parquet`), references: ref(`${i.output_prefix}/r.parquet`), rows: 5 })),
    // A real parquet corpus (as SFT reads), so an approval gate before SFT samples real rows from it.
    concatConversations: record('concatConversations', async (i) => ({ dataset: await writeConversations(opts.store, `${i.output_prefix}/all.parquet`, 20), conversations: 20 })),
  };
  const gpu: GpuActivityFns = {
    compress_teacher: gpuRecord('compress_teacher', (i) => ({ model: ref(`${i.output_prefix}/model`, 'model'), method: i.method === 'model_free' ? 'model_free' : 'oneshot', quantized_linear_layers: 7, ignored: ['lm_head'], seconds: 1 })),
    translate_shard: gpuRecord('translate_shard', (i) => ({
      translations: ref(`${i.output_prefix}/translations.parquet`),
      rows: 10, generated_tokens: 100, seconds: 1, tokens_per_second: String(i.model).includes('fp8') ? 200 : 100, engine: 'transformers' as const, resumed_rows: 0, engine_batch_size: Number(i.batch_size), oom_halvings: 0,
      ...fakeQuarantine(String(i.output_prefix), opts.poison?.(i) ?? 0),
    })),
    train_sft: gpuRecord('train_sft', async (i) => ({ model: ref(`${i.output_prefix}/model`, 'model'), loss_history: await fakeLossHistory(opts.store, i.output_prefix), steps: 10, final_loss: 0.5, resumed_from_step: 0, seconds: 1, per_device_batch_size: 8, gradient_accumulation_steps: 1, oom_halvings: 0 })),
    merge_slerp: gpuRecord('merge_slerp', (i) => ({ model: ref(`${i.output_prefix}/model`, 'model'), tensors: 20, linear_fallbacks: 1 })),
    evaluate_benchmarks: gpuRecord('evaluate_benchmarks', (i) => fakeScores(String(i.output_prefix), Number(i.batch_size))),
    score_translation: gpuRecord('score_translation', (i) => ({ bleu: String((i.hypotheses as ArtifactRef).uri).includes('base') ? 1 : 40, chrf: String((i.hypotheses as ArtifactRef).uri).includes('base') ? 5 : 60, rows: 5, tokenize: 'intl' })),
  };
  return { calls, cpu, gpu };
}

/** The evaluate stage scores base, SFT and merged under their own prefixes: 25, 60 and 50 on AlGhafa. */
function fakeScores(prefix: string, batch_size: number) {
  const score = prefix.endsWith('/base') ? 25 : prefix.endsWith('/sft') ? 60 : 50;
  return { scores: { AlGhafa: score }, average: score, report: ref(`${prefix}/report.json`, 'report'), batch_size, oom_halvings: 0 };
}

/**
 * A real loss_history.json in the store, as the train runner writes it: ten steps falling to final_loss
 * 0.5, each run (prefix) at a pace of its own so that curves drawn together can be told apart.
 */
async function fakeLossHistory(store: ArtifactStore, prefix: string): Promise<ArtifactRef> {
  const pace = 1 + parseInt(sha(prefix).slice(0, 2), 16) / 64;
  const history: LossHistory = { points: Array.from({ length: 10 }, (_, k) => ({ step: k + 1, loss: 0.5 + 1.5 * ((9 - k) / 9) ** pace })) };
  const text = JSON.stringify(history);
  const uri = `${prefix}/loss_history.json`;
  await store.putBytes(uri, text);
  return { uri, sha256: sha(text), kind: 'report', bytes: Buffer.byteLength(text) };
}

/** What a shard with `n` quarantined rows reports, as the runner does: the count, and its file when there is one. */
function fakeQuarantine(prefix: string, n: number) {
  return n > 0 ? { quarantined_rows: n, quarantine: ref(`${prefix}/quarantine.parquet`, 'dataset', n) } : { quarantined_rows: 0 };
}

/** True when the two calls' [start, end] intervals overlap. */
export const overlapped = (a: Call, b: Call) => a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity);
