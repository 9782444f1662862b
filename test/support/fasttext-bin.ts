// Writes small fastText model files for the tests, byte for byte in the layout fastText's
// saveModel writes (src/fasttext.cc, args.cc, dictionary.cc, densematrix.cc, quantmatrix.cc,
// productquantizer.cc): no training, the weights are seeded pseudo-random numbers. With them the
// TypeScript predictor is compared with fastText's wasm build on the paths lid.176.ftz does not
// take: a dense input matrix (a .bin such as GlotLID's), softmax, one-vs-all and negative sampling,
// word n-grams, a quantized output matrix (qout), sub-quantizers of unequal width, format 11.
import { writeFileSync } from 'node:fs';

export interface TinyModelSpec {
  /** 12 (today's) or 11 (supervised models without character n-grams). */
  version?: number;
  dim: number;
  /** 1 hs, 2 ns, 3 softmax, 4 ova. */
  loss: 1 | 2 | 3 | 4;
  /** 3 supervised; 1 cbow (not a classifier). */
  model?: number;
  wordNgrams: number;
  minn: number;
  maxn: number;
  bucket: number;
  /** Words (sorted by count, as fastText keeps them) and labels (with __label__), with their counts. */
  words: [string, number][];
  labels: [string, number][];
  /** Absent: dense matrices. Present: a product-quantized input matrix, and output too with qout. */
  quantized?: { dsub: number; qnorm: boolean; qout: boolean; /** n-gram buckets kept, in row order (pruneidx). */ keep: number[] };
  seed: number;
}

/** A deterministic generator of numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Bytes {
  private parts: Buffer[] = [];
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  float64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }
  uint8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  floats(values: Float32Array): this {
    return this.raw(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function randomFloats(n: number, random: () => number, scale: number, offset = -0.5): Float32Array {
  return Float32Array.from({ length: n }, () => (random() + offset) * scale);
}

/** The product quantizer of a `dim`-wide matrix with sub-quantizers `dsub` wide (the last one narrower when dsub does not divide dim). */
function writeQuantizer(out: Bytes, dim: number, dsub: number, random: () => number, scale: number, offset?: number): number {
  const nsubq = Math.ceil(dim / dsub);
  const lastdsub = dim % dsub === 0 ? dsub : dim % dsub;
  out.int32(dim).int32(nsubq).int32(dsub).int32(lastdsub).floats(randomFloats(dim * 256, random, scale, offset));
  return nsubq;
}

function writeMatrix(out: Bytes, rows: number, cols: number, random: () => number, quantized: TinyModelSpec['quantized'] | undefined): void {
  if (!quantized) {
    out.int64(rows).int64(cols).floats(randomFloats(rows * cols, random, 2));
    return;
  }
  const nsubq = Math.ceil(cols / quantized.dsub);
  out.uint8(quantized.qnorm ? 1 : 0).int64(rows).int64(cols).int32(rows * nsubq);
  out.raw(Uint8Array.from({ length: rows * nsubq }, () => Math.floor(random() * 256)));
  writeQuantizer(out, cols, quantized.dsub, random, 2);
  if (quantized.qnorm) {
    out.raw(Uint8Array.from({ length: rows }, () => Math.floor(random() * 256)));
    writeQuantizer(out, 1, 1, random, 2, 0.1); // norms: positive
  }
}

/** Writes the model of `spec` to `file`. */
export function writeTinyModel(file: string, spec: TinyModelSpec): void {
  const random = seeded(spec.seed);
  const out = new Bytes();
  out.int32(793712314).int32(spec.version ?? 12);
  // Args: dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate t
  for (const v of [spec.dim, 5, 5, 1, 5, spec.wordNgrams, spec.loss, spec.model ?? 3, spec.bucket, spec.minn, spec.maxn, 100]) out.int32(v);
  out.float64(1e-4);
  const entries = [...spec.words.map(([w, c]) => [w, c, 0] as const), ...spec.labels.map(([w, c]) => [w, c, 1] as const)];
  const keep = spec.quantized?.keep;
  out.int32(entries.length).int32(spec.words.length).int32(spec.labels.length).int64(1000).int64(keep ? keep.length : -1);
  for (const [word, count, type] of entries) out.raw(Buffer.from(word, 'utf8')).uint8(0).int64(count).uint8(type);
  keep?.forEach((bucket, row) => out.int32(bucket).int32(row));
  const inputRows = spec.words.length + (keep ? keep.length : spec.bucket);
  out.uint8(spec.quantized ? 1 : 0);
  writeMatrix(out, inputRows, spec.dim, random, spec.quantized);
  const qout = spec.quantized?.qout ?? false;
  out.uint8(qout ? 1 : 0);
  writeMatrix(out, spec.labels.length, spec.dim, random, qout ? spec.quantized : undefined);
  writeFileSync(file, out.done());
}
