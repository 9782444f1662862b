// fastText compiled to WebAssembly (npm fasttext.wasm.js, built from facebookresearch/fastText's
// webassembly/ binding): the reference the TypeScript predictor (activities/corpus/fasttext-predict.ts)
// is held to in test/unit/fasttext-agreement.test.ts and timed against in bench/language-id.ts. The
// identifier ran on it until the TypeScript predictor replaced it.
import { readFileSync } from 'node:fs';
import { FastTextModel, getFastTextModule } from 'fasttext.wasm.js';

const LABEL_PREFIX = '__label__';
let files = 0;

export interface WasmFastText {
  labels: string[];
  /** fastText's predict(text, 1, 0): the top label (without __label__) and its probability; null when it predicts nothing. */
  predict(text: string): { label: string; probability: number } | null;
}

/** Loads the model file into the wasm build's memory (each call: its own model, so tests may load several files). */
export async function loadWasmFastText(file: string): Promise<WasmFastText> {
  const core = await getFastTextModule();
  const native = new core.FastText();
  const wasmPath = `/reference-model-${files++}.bin`;
  core.FS.writeFile(wasmPath, readFileSync(file));
  try {
    native.loadModel(wasmPath);
  } finally {
    core.FS.unlink(wasmPath);
  }
  const model = new FastTextModel(native, core);
  const [labelVector, counts] = model.getLabels();
  const labels = Array.from({ length: labelVector.size() }, (_, i) => labelVector.get(i).replace(LABEL_PREFIX, ''));
  labelVector.delete();
  counts.delete();
  return {
    labels,
    predict(text) {
      const top = model.predict(text, 1, 0);
      try {
        const best = top.size() > 0 ? top.get(0) : undefined;
        return best ? { label: best[1].replace(LABEL_PREFIX, ''), probability: best[0] } : null;
      } finally {
        top.delete(); // an embind vector: its memory lives in the wasm heap until deleted
      }
    },
  };
}
