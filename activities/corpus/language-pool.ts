// Language identification on every core: a pool of worker threads (language-worker.ts), one per
// core, each holding its own model. The caller sends chunks of texts and gets the verdicts back
// in the order it sent them, so the result does not depend on the number of threads or on which
// thread judged what. The pool's owner closes it when the job ends or fails: no thread outlives it.
import { statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LanguageIdModel } from '../../contracts/cpu-activities';
import { BadCorpusInput } from './bad-corpus-input';
import type { LanguageThresholds } from './language-identifier';
import type { FromWorker, ToWorker, Verdict, WorkerError, WorkerInit } from './language-worker';

const WORKER_FILE = path.join(__dirname, 'language-worker.ts');
/**
 * A worker thread starts without the TypeScript loader when its host did not pass it in execArgv
 * (vitest, the Temporal worker's tsx child): registering tsx's CommonJS hook first works in every host.
 */
const BOOT = `require('tsx/cjs/api').register(); require(${JSON.stringify(WORKER_FILE)});`;

/** Chunks in flight per thread: one being judged, one waiting, so a thread never idles on the main thread. */
export const CHUNKS_PER_THREAD = 2;

/** A worker's error as this thread throws it: a BadCorpusInput stays one (BadInput, non-retryable), others keep their name. */
function rebuilt(error: WorkerError): Error {
  const rebuiltError = error.name === 'BadCorpusInput' ? new BadCorpusInput(error.message) : Object.assign(new Error(error.message), { name: error.name });
  if (error.stack) rebuiltError.stack = `${rebuiltError.name}: ${error.message}\n    (in a language-identification thread)\n${error.stack.split('\n').slice(1).join('\n')}`;
  return rebuiltError;
}

/** Threads started and not yet exited, in this process: 0 whenever no job runs (the tests hold it to that). */
let threadsRunning = 0;
export const runningLanguageThreads = () => threadsRunning;

interface Pending {
  resolve(verdicts: Verdict[]): void;
  reject(error: Error): void;
}

class Thread {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  alive = true;
  constructor(init: WorkerInit) {
    this.worker = new Worker(BOOT, { eval: true, workerData: init });
    threadsRunning++;
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'verdicts') this.settle(message.id, (p) => p.resolve(message.verdicts));
      else if (message.type === 'failed' && message.id !== undefined) this.settle(message.id, (p) => p.reject(rebuilt(message.error)));
    });
    // A thread that dies (an uncaught error, out of memory) fails every chunk it held, with the cause.
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => {
      threadsRunning--;
      this.alive = false;
      this.failAll(new Error(`a language-identification thread exited (code ${code}) while judging`));
    });
  }

  private settle(id: number, how: (p: Pending) => void): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (p) how(p);
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Resolves with the model's name and labels once loaded; rejects with the load's error. */
  ready(): Promise<{ name: string; labels: string[] }> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') resolve(message);
        else if (message.type === 'failed' && message.id === undefined) reject(rebuilt(message.error));
        else return;
        this.worker.off('message', onMessage);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`a language-identification thread exited (code ${code}) before its model loaded`)));
    });
  }
}

export class LanguagePool {
  private nextId = 0;
  private live: number;

  private constructor(
    private readonly threads: Thread[],
    /** The model's name (errors, the quarantine) and every label it can give. */
    readonly name: string,
    readonly labels: ReadonlySet<string>,
  ) {
    this.live = threads.length;
    for (const t of threads) t.worker.on('exit', () => this.live--);
  }

  /** `size` threads, each loading the model; a load that fails closes them all and throws its error. */
  static async open(init: WorkerInit, size: number): Promise<LanguagePool> {
    const threads = Array.from({ length: Math.max(1, size) }, () => new Thread(init));
    try {
      const loaded = await Promise.all(threads.map((t) => t.ready()));
      return new LanguagePool(threads, loaded[0]!.name, new Set(loaded[0]!.labels));
    } catch (error) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw error;
    }
  }

  /** Threads still running: 0 once closed. */
  get running(): number {
    return this.live;
  }

  get size(): number {
    return this.threads.length;
  }

  /** The labels each side accepts (in the order of the texts of a row) and the thresholds, for every later chunk. */
  configure(accept: readonly ReadonlySet<string>[], thresholds: LanguageThresholds): void {
    const message: ToWorker = { type: 'configure', accept: accept.map((a) => [...a]), thresholds: { min_confidence: thresholds.min_confidence, min_letters: thresholds.min_letters } };
    for (const t of this.threads) t.worker.postMessage(message);
  }

  /**
   * The verdicts on one chunk, judged by the least busy thread: `texts` holds its rows' sides one
   * after the other, `width` texts a row (one flat array: a chunk is one object to copy to the thread, not one per row).
   */
  judge(texts: (string | null)[], width: number): Promise<Verdict[]> {
    const thread = this.threads.filter((t) => t.alive).reduce<Thread | undefined>((a, t) => (!a || t.pending.size < a.pending.size ? t : a), undefined);
    if (!thread) return Promise.reject(new Error('the language-identification pool is closed'));
    const id = this.nextId++;
    return new Promise<Verdict[]>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ type: 'judge', id, texts, width } satisfies ToWorker);
    });
  }

  /** Ends every thread (chunks still in flight fail); resolves once they have exited. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}

/** Of the machine's memory, the most the threads' copies of the model may take together. */
const MODEL_MEMORY_SHARE = 0.25;

/**
 * Threads for a model: one per core, but no more copies of the model than a quarter of the memory
 * holds (GlotLID's model.bin is 1.6 GB: 16 copies on a 16-core machine would be 26 GB).
 */
export function poolSize(modelBytes: number, cores = availableParallelism(), memory = totalmem()): number {
  return Math.max(1, Math.min(cores, Math.floor((memory * MODEL_MEMORY_SHARE) / Math.max(1, modelBytes))));
}

/** The pool for a check's model: the builtin model or a fastText file at a local path (a file that cannot be read fails in the threads, with its error). */
export function openLanguagePool(model: LanguageIdModel, modelPath?: string, size?: number): Promise<LanguagePool> {
  let modelBytes = 0;
  try {
    modelBytes = modelPath ? statSync(modelPath).size : 0;
  } catch {
    // the threads report the unreadable file as the recipe's error
  }
  return LanguagePool.open({ model, ...(modelPath ? { modelPath } : {}) }, size ?? poolSize(modelBytes));
}
