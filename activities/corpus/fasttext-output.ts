// fastText's output layer at prediction time with k = 1 and threshold 0 (src/loss.cc): the best
// label for a hidden vector and its log-probability as fastText scores it. The arithmetic is
// fastText's in float32, operation for operation (Math.fround after each one: a float operation
// done in double and rounded once gives the same float, and WebAssembly does not fuse multiply-add;
// a dense softmax/ova layer's dot products run in fasttext-kernel.ts, float32 as well), so only exp
// and log can differ from the wasm build's (V8's vs musl's), by an ulp at times.
//   - hs: the Huffman tree Loss builds from the labels' counts (HierarchicalSoftmaxLoss::buildTree),
//     walked depth-first, left (1 - f) before right (f), pruning branches already below the best
//     leaf or below std_log(0) (HierarchicalSoftmaxLoss::dfs);
//   - softmax: exp(x - max) / sum (SoftmaxLoss::computeOutput);
//   - ova and ns: the 512-entry sigmoid table (BinaryLogisticLoss::computeOutput, Loss::sigmoid);
//   - every score is std_log(p) = log(p + 1e-5), so a sure guess comes out as 1.00001; with k = 1
//     a later label that ties the best replaces it (findKBest's heap pops the older one).
import { DenseDots } from './fasttext-kernel';
import { type FastTextMatrix, type FastTextModel, LossName } from './fasttext-model';

const f32 = Math.fround;
const SIGMOID_TABLE_SIZE = 512;
const MAX_SIGMOID = 8;

/** Loss's std_log: log(x + 1e-5) in double, x and the result float. */
const stdLog = (x: number): number => f32(Math.log(f32(x) + 1e-5));

/** Matrix::dotRow: row i of `matrix` . hidden, in float (a quantized row through its product quantizer's mulcode). */
export function dotRow(matrix: FastTextMatrix, hidden: Float32Array, i: number): number {
  let d = 0;
  if (matrix.kind === 'dense') {
    const { data, cols } = matrix;
    for (let j = 0, at = i * cols; j < cols; j++, at++) d = f32(d + f32(data[at]! * hidden[j]!));
    return d;
  }
  const { codes, centroids, nsubq, dsub, lastdsub, norms } = matrix;
  for (let m = 0, code = i * nsubq; m < nsubq; m++, code++) {
    const last = m === nsubq - 1;
    const c = last ? m * 256 * dsub + codes[code]! * lastdsub : (m * 256 + codes[code]!) * dsub;
    const width = last ? lastdsub : dsub;
    for (let n = 0; n < width; n++) d = f32(d + f32(hidden[m * dsub + n]! * centroids[c + n]!));
  }
  return f32(d * (norms ? norms[i]! : 1));
}

export interface OutputLayer {
  /** The best label's index for `hidden`, -1 when none scores above std_log(0); its score in `score`. */
  best(hidden: Float32Array): number;
  score: number;
}

export function outputLayer(model: FastTextModel): OutputLayer {
  const counts = model.dict.counts.subarray(model.dict.nwords);
  switch (model.args.loss) {
    case LossName.hs:
      return new HierarchicalSoftmax(model.output, counts);
    case LossName.softmax:
      return new FlatOutput(model.output, counts.length, 'softmax');
    default:
      return new FlatOutput(model.output, counts.length, 'sigmoid');
  }
}

class HierarchicalSoftmax implements OutputLayer {
  score = 0;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly osz: number;
  /** std_log(threshold) with threshold 0. */
  private readonly floor = stdLog(0);
  /** The most a step down the tree can add: std_log(1) = log(1 + 1e-5), just above 0. */
  private readonly step = stdLog(1);
  private bestNode = -1;
  private hidden: Float32Array = new Float32Array(0);

  constructor(
    private readonly output: FastTextMatrix,
    counts: Float64Array,
  ) {
    // buildTree: leaves 0..osz-1 are the labels (sorted by count, descending), inner nodes osz..2osz-2;
    // each inner node joins the two smallest of the next leaf (from the end) and the next inner node.
    const osz = (this.osz = counts.length);
    const count = new Float64Array(2 * osz - 1).fill(1e15);
    count.set(counts);
    this.left = new Int32Array(2 * osz - 1).fill(-1);
    this.right = new Int32Array(2 * osz - 1).fill(-1);
    let leaf = osz - 1;
    let node = osz;
    for (let i = osz; i < 2 * osz - 1; i++) {
      const mini = [0, 0];
      for (let j = 0; j < 2; j++) mini[j] = leaf >= 0 && count[leaf]! < count[node]! ? leaf-- : node++;
      this.left[i] = mini[0]!;
      this.right[i] = mini[1]!;
      count[i] = count[mini[0]!]! + count[mini[1]!]!;
    }
  }

  best(hidden: Float32Array): number {
    this.bestNode = -1;
    this.hidden = hidden;
    this.dfs(2 * this.osz - 2, 0);
    return this.bestNode;
  }

  private dfs(node: number, score: number): void {
    if (score < this.floor) return;
    if (this.bestNode >= 0 && score < this.score) return;
    const left = this.left[node]!;
    const right = this.right[node]!;
    if (left === -1 && right === -1) {
      this.bestNode = node;
      this.score = score;
      return;
    }
    const f = f32(1 / f32(1 + f32(Math.exp(-dotRow(this.output, this.hidden, node - this.osz)))));
    // A child scores at most f32(score + step): when that cannot pass the child's own checks, its
    // log is not taken (it would be pruned on entry all the same). Checked after the left child,
    // which may have raised the best, as the right child's entry checks it.
    if (this.reachable(score)) this.dfs(left, f32(score + stdLog(1 - f)));
    if (this.reachable(score)) this.dfs(right, f32(score + stdLog(f)));
  }

  private reachable(score: number): boolean {
    const ceiling = f32(score + this.step);
    return ceiling >= this.floor && !(this.bestNode >= 0 && ceiling < this.score);
  }
}

class FlatOutput implements OutputLayer {
  score = 0;
  private readonly out: Float32Array;
  private readonly sigmoidTable = new Float32Array(SIGMOID_TABLE_SIZE + 1);
  /** The dense output matrix in the wasm kernel (fasttext-kernel.ts); null when quantized (or too large for it). */
  private readonly kernel: DenseDots | null;

  constructor(
    private readonly output: FastTextMatrix,
    labels: number,
    private readonly kind: 'softmax' | 'sigmoid',
  ) {
    this.out = new Float32Array(labels);
    this.kernel = output.kind === 'dense' ? DenseDots.create(output.data, labels, output.cols) : null;
    for (let i = 0; i <= SIGMOID_TABLE_SIZE; i++) {
      const x = f32(f32(f32(i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE) - MAX_SIGMOID);
      this.sigmoidTable[i] = 1 / (1 + f32(Math.exp(-x)));
    }
  }

  private sigmoid(x: number): number {
    if (x < -MAX_SIGMOID) return 0;
    if (x > MAX_SIGMOID) return 1;
    return this.sigmoidTable[Math.trunc(f32(f32(f32(f32(x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE) / MAX_SIGMOID) / 2))]!;
  }

  best(hidden: Float32Array): number {
    const { out } = this;
    const n = out.length;
    this.dots(hidden);
    if (this.kind === 'softmax') {
      let max = out[0]!;
      for (let i = 0; i < n; i++) max = Math.max(out[i]!, max);
      let z = 0;
      for (let i = 0; i < n; i++) z = f32(z + (out[i] = f32(Math.exp(f32(out[i]! - max)))));
      for (let i = 0; i < n; i++) out[i] = f32(out[i]! / z);
    } else {
      for (let i = 0; i < n; i++) out[i] = this.sigmoid(out[i]!);
    }
    // Loss::findKBest with k = 1, threshold 0, on std_log(p): only a p near the largest can tie its
    // std_log (a float), so only those are scored (0.01% below it is a gap of 1e-4 in the log, far
    // above a float's ulp there).
    let top = -1;
    for (let i = 0; i < n; i++) if (out[i]! >= 0 && (top < 0 || out[i]! > top)) top = out[i]!;
    let best = -1;
    const near = top - 1e-4 * (top + 1e-5);
    for (let i = 0; i < n; i++) {
      if (!(out[i]! >= 0 && out[i]! >= near)) continue;
      const score = stdLog(out[i]!);
      if (best >= 0 && score < this.score) continue;
      best = i;
      this.score = score;
    }
    return best;
  }

  /** Every label's dotRow into this.out: a dense matrix through the wasm kernel, otherwise row by row. */
  private dots(hidden: Float32Array): void {
    const { out, output, kernel } = this;
    if (kernel) {
      kernel.dots(hidden);
      out.set(kernel.out.subarray(0, out.length));
      return;
    }
    for (let i = 0; i < out.length; i++) out[i] = dotRow(output, hidden, i);
  }
}
