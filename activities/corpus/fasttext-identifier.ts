// A fastText language-id model read from a local file (GlotLID's model.bin in production, staged in
// the store or the hub mirror: the activity resolves it, nothing is downloaded here), run by
// fastText compiled to WebAssembly (npm fasttext.wasm.js). The package also ships fastText's
// lid.176.ftz, which the tests load through this same path.
import { readFile } from 'node:fs/promises';
import { FastTextModel, getFastTextModule } from 'fasttext.wasm.js';
import { BadCorpusInput } from './bad-corpus-input';
import type { LanguageIdentifier } from './language-identifier';

const LABEL_PREFIX = '__label__';
/** Where the model file sits in the WebAssembly file system while fastText reads it. */
const WASM_PATH = '/language-id-model.bin';
const FASTTEXT_MAGIC = 793712314;

const loaded = new Map<string, Promise<LanguageIdentifier>>();

/** One model per file per process (GlotLID is 1.6 GB). `uri` names it in errors. */
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
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new BadCorpusInput(`language_id.model.fasttext ${uri}: cannot read ${file} (${String(error)}); stage the model file in the store or the hub mirror`);
  });
  // Every fastText model file opens with this magic number (fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32).
  if (bytes.length < 8 || bytes.readInt32LE(0) !== FASTTEXT_MAGIC) {
    throw new BadCorpusInput(`language_id.model.fasttext ${uri} is not a fastText model file; point it at a .bin or .ftz language-id model such as GlotLID's model.bin`);
  }
  const core = await getFastTextModule();
  const native = new core.FastText();
  core.FS.writeFile(WASM_PATH, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  try {
    native.loadModel(WASM_PATH);
  } catch (error) {
    throw new BadCorpusInput(`language_id.model.fasttext ${uri} is not a fastText model (${String(error)}); point it at a .bin or .ftz language-id model such as GlotLID's model.bin`);
  } finally {
    // fastText holds the model in its own matrices now: the file copy in the wasm heap can go (a second 1.6 GB for GlotLID).
    core.FS.unlink(WASM_PATH);
  }
  const model = new FastTextModel(native, core);
  const [labels, counts] = model.getLabels();
  const names = new Set<string>();
  for (let i = 0; i < labels.size(); i++) names.add(labels.get(i).replace(LABEL_PREFIX, ''));
  labels.delete();
  counts.delete();
  return {
    name: uri,
    labels: names,
    identify(text) {
      const top = model.predict(text, 1, 0);
      try {
        const best = top.size() > 0 ? top.get(0) : undefined;
        return best ? { label: best[1].replace(LABEL_PREFIX, ''), confidence: best[0] } : { label: '', confidence: 0 };
      } finally {
        top.delete(); // an embind vector: its memory lives in the wasm heap until deleted
      }
    },
  };
}
