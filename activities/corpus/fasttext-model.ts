// A fastText model file, read as fastText's FastText::loadModel reads it (src/fasttext.cc, args.cc,
// dictionary.cc, densematrix.cc, quantmatrix.cc, productquantizer.cc), field for field:
//   magic, version | Args (12 int32 and the double t) | Dictionary (sizes, entries "word\0" count
//   type, pruneidx pairs) | quant_input, input matrix | qout, output matrix.
// A matrix is dense (rows, cols, float32 data) or product-quantized (qnorm, rows, cols, codes, the
// product quantizer's centroids, and with qnorm the norms' codes and their 1-d quantizer).
// Only what prediction needs is kept. fasttext-predict.ts runs it.
import { ModelFileError, ModelFileReader, NotAModelFile } from './fasttext-file';

/** fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32 and the newest FASTTEXT_VERSION it reads. */
export const FASTTEXT_MAGIC = 793712314;
const NEWEST_VERSION = 12;
/** model_name::sup: only supervised models predict labels (FastText::predict refuses the others). */
const SUPERVISED = 3;
export const enum LossName {
  hs = 1,
  ns = 2,
  softmax = 3,
  ova = 4,
}
/** Dictionary's MAX_VOCAB_SIZE: no fastText dictionary holds more entries. */
const MAX_VOCAB_SIZE = 30_000_000;
/** ProductQuantizer's ksub_: 2^nbits_ centroids per sub-quantizer, nbits_ = 8. */
const CENTROIDS = 256;

export interface FastTextArgs {
  dim: number;
  wordNgrams: number;
  loss: LossName;
  bucket: number;
  minn: number;
  maxn: number;
}

export interface FastTextDictionary {
  nwords: number;
  nlabels: number;
  /** Every entry's bytes (words, then labels), back to back: entry i is bytes[start[i], start[i + 1]). */
  bytes: Uint8Array;
  start: Int32Array;
  /** Per entry: its count (the labels' counts build the hierarchical softmax's tree). */
  counts: Float64Array;
  /** Per entry: 0 word, 1 label (entry_type). */
  types: Uint8Array;
  /** -1: not pruned; otherwise the bucket -> row pairs kept when the model was quantized (0 pairs: no n-gram rows at all). */
  pruneidxSize: number;
  pruneFrom: Int32Array;
  pruneTo: Int32Array;
}

export interface DenseMatrix {
  kind: 'dense';
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface QuantMatrix {
  kind: 'quantized';
  rows: number;
  cols: number;
  /** Sub-quantizers per row, the width of each but the last, and the last one's width. */
  nsubq: number;
  dsub: number;
  lastdsub: number;
  /** rows * nsubq centroid numbers. */
  codes: Uint8Array;
  /** cols * 256 floats: sub-quantizer m's centroid c starts at (m * 256 + c) * dsub, the last one's at m * 256 * dsub + c * lastdsub. */
  centroids: Float32Array;
  /** Per row its norm (qnorm), decoded from the norm quantizer; null without qnorm. */
  norms: Float32Array | null;
}

export type FastTextMatrix = DenseMatrix | QuantMatrix;

export interface FastTextModel {
  args: FastTextArgs;
  dict: FastTextDictionary;
  input: FastTextMatrix;
  output: FastTextMatrix;
}

/** Reads the model file at `file`; throws ModelFileError for a file fastText would not load (or would load wrongly). */
export async function readFastTextModel(file: string): Promise<FastTextModel> {
  const reader = await ModelFileReader.open(file);
  try {
    await reader.fill(8 + 56);
    if (reader.available < 4 || reader.int32() !== FASTTEXT_MAGIC) throw new NotAModelFile('it does not start with the fastText magic number');
    const version = reader.int32();
    if (version > NEWEST_VERSION) throw new ModelFileError(`its format version ${version} is newer than fastText's ${NEWEST_VERSION}`);
    const args = readArgs(reader, version);
    const dict = await readDictionary(reader);
    reader.section = 'the input matrix';
    const quantInput = await readBool(reader);
    const input = await readMatrix(reader, quantInput);
    // FastText::loadModel's own check: pruned n-grams only ever come with a quantized input matrix.
    if (!quantInput && dict.pruneidxSize >= 0) throw new ModelFileError('its dictionary is pruned but its input matrix is not quantized (an old, broken fastText file)');
    reader.section = 'the output matrix';
    const qout = await readBool(reader);
    const output = await readMatrix(reader, quantInput && qout);
    checkShapes(args, dict, input, output);
    return { args, dict, input, output };
  } finally {
    await reader.close();
  }
}

function readArgs(reader: ModelFileReader, version: number): FastTextArgs {
  reader.section = 'the arguments';
  const [dim, , , , , wordNgrams, loss, model, bucket, minn, maxn] = Array.from({ length: 12 }, () => reader.int32());
  reader.float64(); // t: the sampling threshold, training only
  if (model !== SUPERVISED) throw new ModelFileError(`it is not a supervised (classifier) model (model ${model}): it has no labels to predict`);
  if (loss! < LossName.hs || loss! > LossName.ova) throw new ModelFileError(`its loss ${loss} is none fastText knows`);
  if (!(dim! > 0) || bucket! < 0) throw new ModelFileError(`its dim ${dim} or bucket ${bucket} is out of range`);
  // FastText::loadModel: supervised models of format 11 predate character n-grams.
  return { dim: dim!, wordNgrams: wordNgrams!, loss: loss as LossName, bucket: bucket!, minn: minn!, maxn: version === 11 ? 0 : maxn! };
}

async function readBool(reader: ModelFileReader): Promise<boolean> {
  await reader.fill(1);
  return reader.uint8() !== 0;
}

async function readDictionary(reader: ModelFileReader): Promise<FastTextDictionary> {
  reader.section = 'the dictionary';
  await reader.fill(28);
  const size = reader.int32();
  const nwords = reader.int32();
  const nlabels = reader.int32();
  reader.int64(); // ntokens: training only
  const pruneidxSize = reader.int64();
  if (size < 0 || nwords < 0 || nlabels <= 0 || nwords + nlabels !== size || size > MAX_VOCAB_SIZE) {
    throw new ModelFileError(`its dictionary sizes are inconsistent (${size} entries, ${nwords} words, ${nlabels} labels)`);
  }
  reader.expect(size * 10 + Math.max(0, pruneidxSize) * 8); // each entry takes at least 10 bytes, each pruned n-gram 8
  const start = new Int32Array(size + 1);
  const counts = new Float64Array(size);
  const types = new Uint8Array(size);
  let bytes: Uint8Array = new Uint8Array(1 << 16);
  let used = 0;
  for (let i = 0; i < size; i++) {
    // An entry: its bytes up to a NUL, an int64 count, an int8 type. The window holds many: read more only when this one runs past it.
    let nul = reader.peek().indexOf(0);
    while (nul < 0 || reader.available < nul + 10) {
      const before = reader.available;
      await reader.fill(before * 2 + 1024);
      if (reader.available === before) reader.skip(before + 10); // the file ended inside this entry: throws, naming the section
      nul = reader.peek().indexOf(0);
    }
    if (used + nul > bytes.length) bytes = grown(bytes, used + nul);
    bytes.set(reader.peek().subarray(0, nul), used);
    used += nul;
    start[i + 1] = used;
    reader.skip(nul + 1);
    counts[i] = reader.int64();
    types[i] = reader.uint8();
    if (types[i]! !== (i < nwords ? 0 : 1)) throw new ModelFileError(`dictionary entry ${i} is a ${types[i] === 0 ? 'word' : 'label'} where the sizes put a ${i < nwords ? 'word' : 'label'}`);
  }
  const pairs = Math.max(0, pruneidxSize);
  await reader.fill(pairs * 8);
  const pruneFrom = new Int32Array(pairs);
  const pruneTo = new Int32Array(pairs);
  for (let i = 0; i < pairs; i++) {
    pruneFrom[i] = reader.int32();
    pruneTo[i] = reader.int32();
  }
  return { nwords, nlabels, bytes: bytes.slice(0, used), start, counts, types, pruneidxSize, pruneFrom, pruneTo };
}

function grown(bytes: Uint8Array, atLeast: number): Uint8Array {
  const next = new Uint8Array(Math.max(atLeast, bytes.length * 2));
  next.set(bytes);
  return next;
}

async function readMatrix(reader: ModelFileReader, quantized: boolean): Promise<FastTextMatrix> {
  if (!quantized) {
    await reader.fill(16);
    const rows = reader.int64();
    const cols = reader.int64();
    checkSize(rows, cols);
    return { kind: 'dense', rows, cols, data: await reader.floats(rows * cols) };
  }
  await reader.fill(21);
  const qnorm = reader.uint8() !== 0;
  const rows = reader.int64();
  const cols = reader.int64();
  const codesize = reader.int32();
  checkSize(rows, cols);
  if (codesize < 0 || codesize > rows * cols) throw new ModelFileError(`${reader.section}: its code size ${codesize} does not fit its ${rows} x ${cols} shape`);
  const codes = await reader.bytes(codesize);
  const pq = await readQuantizer(reader);
  if (pq.dim !== cols || codesize !== rows * pq.nsubq) throw new ModelFileError(`${reader.section}: its quantizer does not fit its ${rows} x ${cols} shape`);
  let norms: Float32Array | null = null;
  if (qnorm) {
    const normCodes = await reader.bytes(rows);
    const npq = await readQuantizer(reader);
    // QuantMatrix: a row's norm is the 1-d quantizer's centroid get_centroids(0, norm_codes_[i])[0].
    norms = new Float32Array(rows);
    for (let i = 0; i < rows; i++) norms[i] = npq.centroids[normCodes[i]! * npq.lastdsub]!;
  }
  return { kind: 'quantized', rows, cols, nsubq: pq.nsubq, dsub: pq.dsub, lastdsub: pq.lastdsub, codes, centroids: pq.centroids, norms };
}

async function readQuantizer(reader: ModelFileReader): Promise<{ dim: number; nsubq: number; dsub: number; lastdsub: number; centroids: Float32Array }> {
  await reader.fill(16);
  const dim = reader.int32();
  const nsubq = reader.int32();
  const dsub = reader.int32();
  const lastdsub = reader.int32();
  const consistent = dim > 0 && dsub > 0 && lastdsub > 0 && lastdsub <= dsub && (nsubq - 1) * dsub + lastdsub === dim;
  if (!consistent) throw new ModelFileError(`${reader.section}: its product quantizer's sizes are inconsistent (dim ${dim}, ${nsubq} x ${dsub}, last ${lastdsub})`);
  return { dim, nsubq, dsub, lastdsub, centroids: await reader.floats(dim * CENTROIDS) };
}

function checkSize(rows: number, cols: number): void {
  // 2^31 floats (8 GB) is beyond any language-id model and beyond what one Float32Array holds everywhere.
  if (rows < 0 || cols <= 0 || rows * cols > 2 ** 31) throw new ModelFileError(`a matrix of ${rows} x ${cols} is out of range`);
}

/** The shapes prediction relies on: a row per word and n-gram bucket in, the hidden size out. */
function checkShapes(args: FastTextArgs, dict: FastTextDictionary, input: FastTextMatrix, output: FastTextMatrix): void {
  const ngramRows = dict.pruneidxSize >= 0 ? dict.pruneidxSize : args.bucket;
  if (input.cols !== args.dim || output.cols !== args.dim) throw new ModelFileError(`its matrices are ${input.cols} and ${output.cols} wide where dim is ${args.dim}`);
  if (input.rows < dict.nwords + ngramRows) throw new ModelFileError(`its input matrix has ${input.rows} rows for ${dict.nwords} words and ${ngramRows} n-gram buckets`);
  // hs uses nlabels - 1 rows (the tree's inner nodes), the others one per label.
  if (output.rows < dict.nlabels - (args.loss === LossName.hs ? 1 : 0)) throw new ModelFileError(`its output matrix has ${output.rows} rows for ${dict.nlabels} labels`);
  for (let i = 0; i < dict.pruneidxSize; i++) {
    if (dict.pruneTo[i]! < 0 || dict.pruneTo[i]! >= input.rows - dict.nwords) throw new ModelFileError(`its pruned n-gram ${dict.pruneFrom[i]} points past the input matrix`);
  }
}
