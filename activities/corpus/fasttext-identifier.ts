// A fastText language-id model read from a local file (GlotLID's model.bin in production, staged in
// the store or the hub mirror: the activity resolves it, nothing is downloaded here; the builtin
// model is fastText's lid.176.ftz, shipped inside the npm package fasttext.wasm.js), run by
// fastText's prediction written in TypeScript (fasttext-predict.ts; a dense model's float loops in
// a small wasm kernel, fasttext-kernel.ts). It reads every fastText supervised model, quantized
// (.ftz) or not (.bin), with every loss (hs, softmax, ova, ns), so nothing falls back to fastText's
// wasm build; test/unit/fasttext-agreement.test.ts holds the two to the same labels and the same
// probabilities (the same float on lid.176, one float apart at most elsewhere).
import { ModelFileError, NotAModelFile } from './fasttext-file';
import { readFastTextModel } from './fasttext-model';
import { FastTextPredictor } from './fasttext-predict';
import { BadCorpusInput } from './bad-corpus-input';
import type { LanguageIdentifier } from './language-identifier';

const LABEL_PREFIX = '__label__';
const POINT_IT = "point it at a .bin or .ftz language-id model such as GlotLID's model.bin";

const loaded = new Map<string, Promise<LanguageIdentifier>>();

/** One model per file per thread (GlotLID is 1.6 GB). `uri` names it in errors. */
export function loadFastTextIdentifier(file: string, uri: string): Promise<LanguageIdentifier> {
  let model = loaded.get(file);
  if (!model) {
    model = load(file, uri);
    loaded.set(file, model);
    model.catch(() => loaded.delete(file));
  }
  return model;
}

async function load(file: string, uri: string): Promise<LanguageIdentifier> {
  const model = await readFastTextModel(file).catch((error: unknown) => {
    const knob = `language_id.model.fasttext ${uri}`;
    if (error instanceof NotAModelFile) throw new BadCorpusInput(`${knob} is not a fastText model file; ${POINT_IT}`);
    if (error instanceof ModelFileError) throw new BadCorpusInput(`${knob} is not a fastText model fastText could load (${error.message}); ${POINT_IT}, staged whole`);
    throw new BadCorpusInput(`${knob}: cannot read ${file} (${String(error)}); stage the model file in the store or the hub mirror`);
  });
  const predictor = new FastTextPredictor(model);
  const { dict } = model;
  const decoder = new TextDecoder();
  const labels = Array.from({ length: dict.nlabels }, (_, i) =>
    decoder.decode(dict.bytes.subarray(dict.start[dict.nwords + i], dict.start[dict.nwords + i + 1])).replace(LABEL_PREFIX, ''),
  );
  return {
    name: uri,
    labels: new Set(labels),
    identify(text) {
      const best = predictor.predict(text);
      return best ? { label: labels[best.label]!, confidence: best.probability } : { label: '', confidence: 0 };
    },
  };
}
