// One thread of the language-identification pool (language-pool.ts): it loads its own copy of the
// model (a fastText/ELD model is not shareable across threads), says which labels it knows, then
// judges chunks of texts and sends back only the verdicts against a text. Errors go back with their
// type's name, so the job fails as BadCorpusInput (BadInput) or as what it really was.
import { parentPort, workerData } from 'node:worker_threads';
import type { LanguageIdModel } from '../../contracts/cpu-activities';
import { type LanguageIdentifier, type LanguageThresholds, loadLanguageIdentifier, wrongLanguage } from './language-identifier';

/** What the pool hands a new worker. */
export interface WorkerInit {
  model: LanguageIdModel;
  modelPath?: string;
}

/** Pool -> worker. `texts[r * width + s]`: the text of side s of row r, null when blank (another filter's business). */
export type ToWorker =
  | { type: 'configure'; accept: string[][]; thresholds: LanguageThresholds }
  | { type: 'judge'; id: number; texts: (string | null)[]; width: number };

/** A verdict against row `row` (index in its chunk): its first side `side` in another language. */
export type Verdict = [row: number, side: number, label: string, confidence: number];

export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

/** Worker -> pool. */
export type FromWorker =
  | { type: 'ready'; name: string; labels: string[] }
  | { type: 'verdicts'; id: number; verdicts: Verdict[] }
  | { type: 'failed'; id?: number; error: WorkerError };

const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);
const described = (error: unknown): WorkerError =>
  error instanceof Error ? { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) } : { name: 'Error', message: String(error) };

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  let identifier: LanguageIdentifier;
  try {
    identifier = await loadLanguageIdentifier(init.model, init.modelPath);
  } catch (error) {
    send({ type: 'failed', error: described(error) });
    return;
  }
  let accept: ReadonlySet<string>[] = [];
  let thresholds: LanguageThresholds = { min_confidence: 1, min_letters: 1 };
  port.on('message', (message: ToWorker) => {
    if (message.type === 'configure') {
      accept = message.accept.map((labels) => new Set(labels));
      thresholds = message.thresholds;
      return;
    }
    try {
      const verdicts: Verdict[] = [];
      const { texts, width } = message;
      for (let r = 0; r * width < texts.length; r++) {
        for (let s = 0; s < width; s++) {
          const text = texts[r * width + s];
          if (text === null || text === undefined) continue;
          const guess = wrongLanguage(identifier, text, accept[s]!, thresholds);
          if (!guess) continue;
          verdicts.push([r, s, guess.label, guess.confidence]);
          break; // the first side in another language is the verdict on the row
        }
      }
      send({ type: 'verdicts', id: message.id, verdicts });
    } catch (error) {
      send({ type: 'failed', id: message.id, error: described(error) });
    }
  });
  send({ type: 'ready', name: identifier.name, labels: [...identifier.labels] });
}

void main();
