// fastText's predict(text, k = 1, threshold = 0) in TypeScript, over a model read by
// fasttext-model.ts: what fasttext.wasm.js's FastText.predict returns, without its embind boundary
// (the wasm build's cost per text: the string copied into the wasm heap, a vector of pairs built as
// JS objects, .delete()). Per text, nothing is allocated but the result. Only a dense output layer
// (a .bin such as GlotLID's) is computed in WebAssembly (fasttext-kernel.ts: one call, numbers only).
// The path, as fastText's (webassembly/fasttext_wasm.cc predict, FastText::predictLine,
// Dictionary::getLine, Model::predict):
//   1. the JS string becomes UTF-8 as embind's std::string does (emscripten's stringToUTF8: any
//      surrogate, paired or not, is joined with the next unit into one 4-byte code point), and a
//      newline is appended (the wasm binding's `text + "\n"`);
//   2. tokens are split on fastText's whitespace (space \n \r \t \v \f \0, Dictionary::readWord);
//      the first newline ends the line as the token "</s>", and so does a literal "</s>";
//   3. a token in the dictionary brings its rows (own and n-grams), one outside it its n-grams' rows,
//      a label-like token (__label__...) none; every word's hash feeds the word n-grams;
//   4. the hidden vector is the float average of those rows (Matrix::averageRowsToVector: zero, add
//      each row in order, multiply by float(1.0 / count)); no rows, no prediction;
//   5. the output layer (fasttext-output.ts) and exp of its best score is the probability.
import { RowSums } from './fasttext-kernel';
import type { FastTextModel } from './fasttext-model';
import { type OutputLayer, outputLayer } from './fasttext-output';
import { FastTextWords, IntList, PRECOMPUTED_ROWS, fnv1a } from './fasttext-words';

const f32 = Math.fround;
const LABEL_PREFIX = new TextEncoder().encode('__label__');
const EOS = new TextEncoder().encode('</s>');
/** A dequantized input matrix is kept when it takes at most this (lid.176: 3.2 MB); larger ones are decoded row by row. */
const DEQUANTIZED_BYTES = 256 << 20;
/** Rows wider than this are summed row by row, narrower ones a few columns at a time over all rows. */
const WIDE_ROWS = 64;

/** How the predictor holds the model; the defaults are what the identifier uses, the tests set the others. */
export interface PredictorOptions {
  /** A quantized input matrix is decoded once at load up to this many bytes, else row by row per text. */
  dequantizeUpTo?: number;
  /** A decoded input matrix is summed by the wasm kernel (when its rows split into f32x4), else in JavaScript. */
  useKernel?: boolean;
  /** Dictionary words' rows precomputed at load, at most (fasttext-words.ts). */
  precomputedRows?: number;
}

export interface Prediction {
  /** Index of the label among the model's labels. */
  label: number;
  /** fastText's probability: exp(std_log(p)), so up to 1.00001. */
  probability: number;
}

export class FastTextPredictor {
  private readonly words: FastTextWords;
  private readonly output: OutputLayer;
  private readonly dim: number;
  private readonly wordNgrams: number;
  /** The input matrix as dense rows (dense in the file, or dequantized at load), or null: decoded per row. */
  private readonly dense: Float32Array | null;
  /** A dequantized input matrix, held and summed by the wasm kernel (lid.176), when its rows split into f32x4. */
  private readonly sums: RowSums | null = null;
  private utf8 = new Uint8Array(4096);
  private readonly rows = new IntList();
  private readonly hashes = new IntList();
  private readonly hidden: Float32Array;

  constructor(
    private readonly model: FastTextModel,
    { dequantizeUpTo = DEQUANTIZED_BYTES, useKernel = true, precomputedRows = PRECOMPUTED_ROWS }: PredictorOptions = {},
  ) {
    this.words = new FastTextWords(model, precomputedRows);
    this.output = outputLayer(model);
    this.dim = model.args.dim;
    this.wordNgrams = model.args.wordNgrams;
    this.hidden = new Float32Array(this.dim);
    const { input } = model;
    if (input.kind === 'dense') this.dense = input.data;
    else if (input.rows * input.cols * 4 > dequantizeUpTo) this.dense = null;
    else {
      this.sums = useKernel ? RowSums.create(input.rows, input.cols) : null;
      this.dense = dequantize(model, this.sums?.matrix ?? new Float32Array(input.rows * input.cols));
    }
  }

  /** The best label of `text` and its probability; null when fastText predicts nothing (no input rows). */
  predict(text: string): Prediction | null {
    this.encode(text);
    const { rows, hashes, words } = this;
    rows.length = 0;
    hashes.length = 0;
    const bytes = this.utf8;
    let i = 0;
    for (;;) {
      let c = bytes[i]!;
      while (c === 32 || c === 9 || c === 13 || c === 11 || c === 12 || c === 0) c = bytes[++i]!;
      if (c === 10) {
        this.addToken(EOS, 0, 4, fnv1a(EOS, 0, 4));
        break;
      }
      const start = i;
      let h = 0x811c9dc5 | 0;
      while (c !== 32 && c !== 10 && c !== 9 && c !== 13 && c !== 11 && c !== 12 && c !== 0) {
        h = Math.imul(h ^ ((c << 24) >> 24), 16777619);
        c = bytes[++i]!;
      }
      if (this.addToken(bytes, start, i, h)) break;
    }
    if (this.wordNgrams > 1) words.addWordNgramRows(hashes, this.wordNgrams, rows);
    if (rows.length === 0) return null; // FastText::predict: no input, no prediction
    this.average();
    const label = this.output.best(this.hidden);
    return label < 0 ? null : { label, probability: f32(Math.exp(this.output.score)) };
  }

  /** One token of the line; true when it ends the line ("</s>"). */
  private addToken(bytes: Uint8Array, start: number, end: number, h: number): boolean {
    const { words } = this;
    const id = words.find(bytes, start, end, h);
    if (id >= words.nwords) return false; // a label: not an input
    if (id >= 0) words.addWordRows(id, this.rows);
    else if (startsWith(bytes, start, end, LABEL_PREFIX)) return false;
    const eos = end - start === 4 && startsWith(bytes, start, end, EOS);
    if (id < 0 && !eos) words.addTokenNgramRows(bytes, start, end, h, this.rows);
    this.hashes.push(h);
    return eos;
  }

  private average(): void {
    const { hidden, dim, dense } = this;
    const rows = this.rows.items;
    const count = this.rows.length;
    hidden.fill(0);
    if (this.sums) this.sums.sum(rows, count, hidden);
    else if (dense && dim > WIDE_ROWS) {
      // Wide rows (GlotLID: 256) row by row, each read from start to end as it lies in memory.
      for (let r = 0; r < count; r++) {
        for (let j = 0, at = rows[r]! * dim; j < dim; j++, at++) hidden[j] = hidden[j]! + dense[at]!;
      }
    } else if (dense) {
      // Eight columns at a time in locals over all rows: each column still sums its rows in order, in
      // float, and eight independent sums keep the CPU busy while each waits on its float rounding.
      let j = 0;
      for (; j + 8 <= dim; j += 8) {
        let a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0; // prettier-ignore
        for (let r = 0; r < count; r++) {
          const at = rows[r]! * dim + j;
          a = f32(a + dense[at]!);
          b = f32(b + dense[at + 1]!);
          c = f32(c + dense[at + 2]!);
          d = f32(d + dense[at + 3]!);
          e = f32(e + dense[at + 4]!);
          f = f32(f + dense[at + 5]!);
          g = f32(g + dense[at + 6]!);
          h = f32(h + dense[at + 7]!);
        }
        hidden[j] = a;
        hidden[j + 1] = b;
        hidden[j + 2] = c;
        hidden[j + 3] = d;
        hidden[j + 4] = e;
        hidden[j + 5] = f;
        hidden[j + 6] = g;
        hidden[j + 7] = h;
      }
      for (; j < dim; j++) {
        let a = 0;
        for (let r = 0; r < count; r++) a = f32(a + dense[rows[r]! * dim + j]!);
        hidden[j] = a;
      }
    } else {
      for (let r = 0; r < count; r++) addQuantizedRow(this.model, rows[r]!, hidden);
    }
    const scale = f32(1 / count);
    for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! * scale;
  }

  /** `text` as embind hands it to fastText, with the newline, into this.utf8. */
  private encode(text: string): void {
    if (this.utf8.length < text.length * 3 + 2) this.utf8 = new Uint8Array(text.length * 3 + 1024);
    const out = this.utf8;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let u = text.charCodeAt(i);
      if (u >= 0xd800 && u <= 0xdfff) u = (0x10000 + ((u & 1023) << 10)) | (text.charCodeAt(++i) & 1023); // NaN & 1023 = 0 past the end
      if (u <= 0x7f) out[n++] = u;
      else if (u <= 0x7ff) {
        out[n++] = 0xc0 | (u >> 6);
        out[n++] = 0x80 | (u & 63);
      } else if (u <= 0xffff) {
        out[n++] = 0xe0 | (u >> 12);
        out[n++] = 0x80 | ((u >> 6) & 63);
        out[n++] = 0x80 | (u & 63);
      } else {
        out[n++] = 0xf0 | (u >> 18);
        out[n++] = 0x80 | ((u >> 12) & 63);
        out[n++] = 0x80 | ((u >> 6) & 63);
        out[n++] = 0x80 | (u & 63);
      }
    }
    out[n] = 10;
  }
}

function startsWith(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}

/** QuantMatrix::addRowToVector: the row's product-quantizer code, each centroid times the row's norm (float), added. */
function addQuantizedRow(model: FastTextModel, row: number, x: Float32Array): void {
  const input = model.input;
  if (input.kind !== 'quantized') return;
  const { codes, centroids, nsubq, dsub, lastdsub, norms } = input;
  const norm = norms ? norms[row]! : 1;
  for (let m = 0, code = row * nsubq; m < nsubq; m++, code++) {
    const last = m === nsubq - 1;
    const c = last ? m * 256 * dsub + codes[code]! * lastdsub : (m * 256 + codes[code]!) * dsub;
    const width = last ? lastdsub : dsub;
    for (let n = 0; n < width; n++) x[m * dsub + n] = x[m * dsub + n]! + f32(norm * centroids[c + n]!);
  }
}

/** The quantized input matrix decoded once into `dense`: row values exactly as addRowToVector adds them. */
function dequantize(model: FastTextModel, dense: Float32Array): Float32Array {
  const { rows, cols } = model.input;
  for (let r = 0; r < rows; r++) addQuantizedRow(model, r, dense.subarray(r * cols, (r + 1) * cols));
  return dense;
}
