// The one loop of fastText's prediction that JavaScript cannot run at float32 speed: every label's
// dot product with the hidden vector over a dense output matrix (GlotLID: 2000+ labels x 256 per
// text). JavaScript has no float32 arithmetic; each exact rounding (Math.fround) costs two
// conversions, so that loop ran ~1.4x slower than fastText's own wasm. Here it is WebAssembly,
// written below instruction by instruction (no toolchain), with SIMD: each f32x4 lane holds one
// label's sum, which still adds its terms in fastText's order (DenseMatrix::dotRow: d = 0, then
// d += row[j] * hidden[j] for j = 0..dim-1) with float32 multiply and add, rounded each time
// (wasm has no fused multiply-add): the same floats as fastText, 16 labels at a time.
// Memory layout (float32): the output matrix regrouped by 16 labels, each group [j][16 labels]
// (labels past the last are zero rows), then the hidden vector, then the 16-padded outputs.

/** Labels per group: four f32x4 accumulators in flight, so the adds do not wait on each other. */
export const KERNEL_GROUP = 16;

// Opcodes used (WebAssembly core and SIMD 128).
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const [BLOCK, LOOP, END, BR, BR_IF, VOID] = [0x02, 0x03, 0x0b, 0x0c, 0x0d, 0x40];
const [LOCAL_GET, LOCAL_SET, LOCAL_TEE] = [0x20, 0x21, 0x22];
const [I32_CONST, I32_ADD, I32_GE_U, I32_LT_U] = [0x41, 0x6a, 0x4f, 0x49];
const F32_LOAD = 0x2a;
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
  const outAt = [LOCAL_GET, OUT, LOCAL_GET, g, I32_CONST, ...sleb(4 * KERNEL_GROUP), 0x6c /* i32.mul */, I32_ADD];
  acc.forEach((a, k) => code.push(...outAt, LOCAL_GET, a, ...simd(V128_STORE, 4, ...leb(16 * k))));
  code.push(LOCAL_GET, g, I32_CONST, 1, I32_ADD, LOCAL_TEE, g, LOCAL_GET, NG, I32_LT_U, BR_IF, 0, END, END, END);
  return code;
}

function moduleBytes(): Uint8Array {
  const type = section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]);
  const imports = section(2, [1, ...name('k'), ...name('m'), 0x02, 0x00, 0x00]); // memory k.m, at least 0 pages
  const functions = section(3, [1, 0]);
  const exports = section(7, [1, ...name('dots'), 0x00, 0]);
  const body = dotsBody();
  const code = section(10, [1, ...leb(body.length), ...body]);
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

/** A dense output matrix ready for the kernel: `dots(hidden)` leaves every label's dotRow in `out`. */
export class DenseDots {
  /** The outputs, one per label (then padding). */
  readonly out: Float32Array;
  /** Where the hidden vector goes before each dots(). */
  readonly hidden: Float32Array;
  private readonly run: (groups: number, ngroups: number, dim: number, hidden: number, out: number) => void;
  private readonly ngroups: number;

  constructor(data: Float32Array, labels: number, private readonly dim: number) {
    this.ngroups = Math.ceil(labels / KERNEL_GROUP);
    const groupFloats = this.ngroups * KERNEL_GROUP * dim;
    const hiddenFloats = Math.ceil(dim / 4) * 4; // the outputs start 16-byte aligned
    const bytes = 4 * (groupFloats + hiddenFloats + this.ngroups * KERNEL_GROUP);
    const memory = new wasm.Memory({ initial: Math.ceil(bytes / 65536) });
    compiled ??= new wasm.Module(moduleBytes());
    const instance = new wasm.Instance(compiled, { k: { m: memory } });
    this.run = instance.exports.dots as DenseDots['run'];
    const groups = new Float32Array(memory.buffer, 0, groupFloats);
    for (let i = 0; i < labels; i++) {
      const base = Math.floor(i / KERNEL_GROUP) * KERNEL_GROUP * dim + (i % KERNEL_GROUP);
      for (let j = 0; j < dim; j++) groups[base + j * KERNEL_GROUP] = data[i * dim + j]!;
    }
    this.hidden = new Float32Array(memory.buffer, 4 * groupFloats, dim);
    this.out = new Float32Array(memory.buffer, 4 * (groupFloats + hiddenFloats), this.ngroups * KERNEL_GROUP);
  }

  dots(hidden: Float32Array): void {
    this.hidden.set(hidden);
    this.run(0, this.ngroups, this.dim, this.hidden.byteOffset, this.out.byteOffset);
  }
}
