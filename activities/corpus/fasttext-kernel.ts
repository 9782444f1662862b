// The loops of fastText's prediction that JavaScript cannot run at float32 speed, as WebAssembly
// written below instruction by instruction (no toolchain). JavaScript has no float32 arithmetic:
// each exact rounding (Math.fround) costs two conversions, so GlotLID's output layer (2000+ labels
// x 256 per text) ran ~1.4x slower than fastText's own wasm. Both use SIMD where each f32x4 lane is
// one sum that still adds its terms in fastText's order with float32 add (and multiply), rounded
// each time (wasm has no fused multiply-add): the same floats as fastText.
//   - dots: every label's DenseMatrix::dotRow (d = 0, d += row[j] * hidden[j] for j in order), 16
//     labels at a time; the output matrix regrouped by 16 labels, each group [j][16 labels];
//   - sumRows: Matrix::averageRowsToVector's sum (each row added to the hidden vector in order), 4
//     columns at a time; the input rows in this memory (lid.176's, dequantized at load).

/** Labels per group: four f32x4 accumulators in flight, so the adds do not wait on each other. */
export const KERNEL_GROUP = 16;

// Opcodes used (WebAssembly core and SIMD 128).
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const [BLOCK, LOOP, END, BR, BR_IF, VOID] = [0x02, 0x03, 0x0b, 0x0c, 0x0d, 0x40];
const [LOCAL_GET, LOCAL_SET, LOCAL_TEE] = [0x20, 0x21, 0x22];
const [I32_CONST, I32_ADD, I32_MUL, I32_SHL, I32_GE_U, I32_LT_U] = [0x41, 0x6a, 0x6c, 0x74, 0x4f, 0x49];
const [I32_LOAD, F32_LOAD] = [0x28, 0x2a];
const [V128_LOAD, V128_STORE, V128_CONST, F32X4_SPLAT, F32X4_ADD, F32X4_MUL] = [0x00, 0x0b, 0x0c, 0x13, 0xe4, 0xe6];

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, as i32.const reads its operand (0x40..0x7f alone would be negative). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const simd = (op: number, ...rest: number[]) => [SIMD, ...leb(op), ...rest];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

/**
 * dots(groups, ngroups, dim, hidden, out): for each group g and lane l of its four accumulators,
 * out[16g + l] = sum over j of groups[g][j][l] * hidden[j], in j order. Pointers are byte offsets.
 */
function dotsBody(): number[] {
  // Parameters 0 groups, 1 ngroups, 2 dim, 3 hidden, 4 out; locals 5 g, 6 j, 7 h, 8 p, 9..12 accumulators, 13 hidden[j] in every lane.
  const [G, NG, DIM, HIDDEN, OUT, g, j, h, p, x] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 13];
  const acc = [9, 10, 11, 12];
  const zero = simd(V128_CONST, ...new Array<number>(16).fill(0));
  const code: number[] = [];
  code.push(2, 4, I32, 5, V128); // locals: 4 i32 (g, j, h, p), 5 v128
  code.push(LOCAL_GET, G, LOCAL_SET, p);
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, g, LOCAL_GET, NG, I32_GE_U, BR_IF, 1); // every group done
  for (const a of acc) code.push(...zero, LOCAL_SET, a);
  code.push(LOCAL_GET, HIDDEN, LOCAL_SET, h, I32_CONST, 0, LOCAL_SET, j);
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, j, LOCAL_GET, DIM, I32_GE_U, BR_IF, 1); // every hidden unit done
  code.push(LOCAL_GET, h, F32_LOAD, 2, 0, ...simd(F32X4_SPLAT), LOCAL_SET, x);
  acc.forEach((a, k) => {
    // acc_k = acc_k + groups[p + 16k] * x
    code.push(LOCAL_GET, a, LOCAL_GET, p, ...simd(V128_LOAD, 4, ...leb(16 * k)), LOCAL_GET, x, ...simd(F32X4_MUL), ...simd(F32X4_ADD), LOCAL_SET, a);
  });
  code.push(LOCAL_GET, p, I32_CONST, ...sleb(4 * KERNEL_GROUP), I32_ADD, LOCAL_SET, p);
  code.push(LOCAL_GET, h, I32_CONST, 4, I32_ADD, LOCAL_SET, h);
  code.push(LOCAL_GET, j, I32_CONST, 1, I32_ADD, LOCAL_SET, j, BR, 0, END, END);
  // out[16g .. 16g + 15] = the four accumulators
  const outAt = [LOCAL_GET, OUT, LOCAL_GET, g, I32_CONST, ...sleb(4 * KERNEL_GROUP), I32_MUL, I32_ADD];
  acc.forEach((a, k) => code.push(...outAt, LOCAL_GET, a, ...simd(V128_STORE, 4, ...leb(16 * k))));
  code.push(LOCAL_GET, g, I32_CONST, 1, I32_ADD, LOCAL_TEE, g, LOCAL_GET, NG, I32_LT_U, BR_IF, 0, END, END, END);
  return code;
}

/**
 * sumRows(rows, count, matrix, dim, hidden): for each of the `count` int32 row numbers at `rows`, in
 * order, hidden[j] += matrix[row * dim + j], four columns per f32x4 (dim a multiple of 4).
 */
function sumRowsBody(): number[] {
  // Parameters 0 rows, 1 count, 2 matrix, 3 dim, 4 hidden; locals 5 r (byte offset into rows), 6 end, 7 row address, 8 j (bytes).
  const [ROWS, COUNT, MATRIX, DIM, HIDDEN, r, end, row, j] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const code: number[] = [1, 4, I32]; // locals: 4 i32
  code.push(LOCAL_GET, ROWS, LOCAL_SET, r);
  code.push(LOCAL_GET, ROWS, LOCAL_GET, COUNT, I32_CONST, 2, I32_SHL, I32_ADD, LOCAL_SET, end);
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, r, LOCAL_GET, end, I32_GE_U, BR_IF, 1); // every row done
  // row = matrix + rows[r] * dim * 4
  code.push(LOCAL_GET, MATRIX, LOCAL_GET, r, I32_LOAD, 2, 0, LOCAL_GET, DIM, I32_MUL, I32_CONST, 2, I32_SHL, I32_ADD, LOCAL_SET, row);
  code.push(I32_CONST, 0, LOCAL_SET, j, BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, j, LOCAL_GET, DIM, I32_CONST, 2, I32_SHL, I32_GE_U, BR_IF, 1); // every column done
  // hidden[j..j+3] = hidden[j..j+3] + row[j..j+3]
  code.push(LOCAL_GET, HIDDEN, LOCAL_GET, j, I32_ADD);
  code.push(LOCAL_GET, HIDDEN, LOCAL_GET, j, I32_ADD, ...simd(V128_LOAD, 4, 0));
  code.push(LOCAL_GET, row, LOCAL_GET, j, I32_ADD, ...simd(V128_LOAD, 4, 0), ...simd(F32X4_ADD), ...simd(V128_STORE, 4, 0));
  code.push(LOCAL_GET, j, I32_CONST, 16, I32_ADD, LOCAL_SET, j, BR, 0, END, END);
  code.push(LOCAL_GET, r, I32_CONST, 4, I32_ADD, LOCAL_SET, r, BR, 0, END, END, END);
  return code;
}

function moduleBytes(): Uint8Array {
  const type = section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]); // both: five i32 in, nothing out
  const imports = section(2, [1, ...name('k'), ...name('m'), 0x02, 0x00, 0x00]); // memory k.m, at least 0 pages
  const functions = section(3, [2, 0, 0]);
  const exports = section(7, [2, ...name('dots'), 0x00, 0, ...name('sumRows'), 0x00, 1]);
  const bodies = [dotsBody(), sumRowsBody()];
  const code = section(10, [2, ...bodies.flatMap((body) => [...leb(body.length), ...body])]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...functions, ...exports, ...code]);
}

/** The few WebAssembly calls used (the project's TypeScript libraries do not declare the global). */
interface WasmApi {
  Memory: new (limits: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let compiled: object | undefined;

type Kernel = (a: number, b: number, c: number, d: number, e: number) => void;

/** A memory of at least `bytes` and the kernel's functions on it. */
function instantiate(bytes: number): { buffer: ArrayBuffer; dots: Kernel; sumRows: Kernel } {
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  compiled ??= new wasm.Module(moduleBytes());
  const { exports } = new wasm.Instance(compiled, { k: { m: memory } });
  return { buffer: memory.buffer, dots: exports.dots as Kernel, sumRows: exports.sumRows as Kernel };
}

/** A dense output matrix ready for the kernel: `dots(hidden)` leaves every label's dotRow in `out`. */
export class DenseDots {
  /** The outputs, one per label (then padding). */
  readonly out: Float32Array;
  /** Where the hidden vector goes before each dots(). */
  readonly hidden: Float32Array;
  private readonly run: Kernel;
  private readonly ngroups: number;

  /** Null when the matrix would not fit a 32-bit memory (2 GB here: far beyond any language-id model's output layer). */
  static create(data: Float32Array, labels: number, dim: number): DenseDots | null {
    const ngroups = Math.ceil(labels / KERNEL_GROUP);
    const bytes = 4 * (ngroups * KERNEL_GROUP * (dim + 1) + Math.ceil(dim / 4) * 4);
    return bytes < 2 ** 31 ? new DenseDots(data, labels, dim, bytes) : null;
  }

  private constructor(data: Float32Array, labels: number, private readonly dim: number, bytes: number) {
    this.ngroups = Math.ceil(labels / KERNEL_GROUP);
    const groupFloats = this.ngroups * KERNEL_GROUP * dim;
    const hiddenFloats = Math.ceil(dim / 4) * 4; // the outputs start 16-byte aligned
    const kernel = instantiate(bytes);
    this.run = kernel.dots;
    const groups = new Float32Array(kernel.buffer, 0, groupFloats);
    for (let i = 0; i < labels; i++) {
      const base = Math.floor(i / KERNEL_GROUP) * KERNEL_GROUP * dim + (i % KERNEL_GROUP);
      for (let j = 0; j < dim; j++) groups[base + j * KERNEL_GROUP] = data[i * dim + j]!;
    }
    this.hidden = new Float32Array(kernel.buffer, 4 * groupFloats, dim);
    this.out = new Float32Array(kernel.buffer, 4 * (groupFloats + hiddenFloats), this.ngroups * KERNEL_GROUP);
  }

  dots(hidden: Float32Array): void {
    this.hidden.set(hidden);
    this.run(0, this.ngroups, this.dim, this.hidden.byteOffset, this.out.byteOffset);
  }
}

/** Row numbers handed to sumRows per call; a text with more is summed in several calls, in order. */
const ROWS_PER_CALL = 4096;

/** Input rows held in the kernel's memory (`matrix`, filled by the caller): `sum` adds rows to a hidden vector in order. */
export class RowSums {
  /** rows x dim floats, to fill once. */
  readonly matrix: Float32Array;
  private readonly hidden: Float32Array;
  private readonly rows: Int32Array;
  private readonly run: Kernel;

  /** Null when the rows do not split into f32x4 (dim not a multiple of 4) or would not fit a 32-bit memory. */
  static create(rows: number, dim: number): RowSums | null {
    const bytes = 4 * (rows * dim + dim + ROWS_PER_CALL);
    return dim % 4 === 0 && bytes < 2 ** 31 ? new RowSums(rows, dim, bytes) : null;
  }

  private constructor(rows: number, private readonly dim: number, bytes: number) {
    const kernel = instantiate(bytes);
    this.run = kernel.sumRows;
    this.matrix = new Float32Array(kernel.buffer, 0, rows * dim);
    this.hidden = new Float32Array(kernel.buffer, 4 * rows * dim, dim);
    this.rows = new Int32Array(kernel.buffer, 4 * (rows * dim + dim), ROWS_PER_CALL);
  }

  /** hidden = the sum of `rows[0, count)` in order, from zero. */
  sum(rows: Int32Array, count: number, hidden: Float32Array): void {
    this.hidden.fill(0);
    for (let from = 0; from < count; from += ROWS_PER_CALL) {
      const n = Math.min(ROWS_PER_CALL, count - from);
      this.rows.set(rows.subarray(from, from + n));
      this.run(this.rows.byteOffset, n, this.matrix.byteOffset, this.dim, this.hidden.byteOffset);
    }
    hidden.set(this.hidden);
  }
}
