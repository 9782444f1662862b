// Sequential, bounds-checked reading of a fastText model file (fasttext-model.ts parses it). The
// file is read in a window of a few MB for the header and the dictionary, and the matrices are read
// straight into their Float32Arrays: GlotLID's 1.6 GB model.bin is never held twice in memory (the
// wasm build held it three times: the file, its copy in the wasm file system, fastText's matrices).
// Every read that would run past the end of the file throws ModelFileError saying where it stopped,
// never a RangeError.
import { type FileHandle, open } from 'node:fs/promises';

/** A model file that is not one fastText could read: truncated, or a field out of range. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** A file that does not even start as a fastText model does. */
export class NotAModelFile extends ModelFileError {
  override name = 'NotAModelFile';
}

/** Bytes read ahead for the small fields (the header, the dictionary's entries). */
const WINDOW = 4 << 20;
/** A matrix is read in pieces of this size (one read may not exceed 2 GB). */
const BULK_PIECE = 256 << 20;

export class ModelFileReader {
  private buf = Buffer.alloc(WINDOW);
  /** Readable bytes: buf[pos, end). `offset`: the file position of buf[0]. */
  private pos = 0;
  private end = 0;
  private offset = 0;
  private atEof = false;

  /** What is being read, for the error when the file ends (set by the parser). */
  section = 'the header';

  private constructor(
    private readonly handle: FileHandle,
    /** The file's size: a count that asks for more than is left is refused before anything is allocated. */
    private readonly size: number,
  ) {}

  static async open(file: string): Promise<ModelFileReader> {
    const handle = await open(file, 'r');
    try {
      return new ModelFileReader(handle, (await handle.stat()).size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** The file position of the next byte. */
  get position(): number {
    return this.offset + this.pos;
  }

  /** Bytes readable now without waiting. */
  get available(): number {
    return this.end - this.pos;
  }

  /** Makes `n` bytes readable without waiting, or everything left in the file when less is left. */
  async fill(n: number): Promise<void> {
    if (this.available >= n || this.atEof) return;
    const kept = this.available;
    const size = Math.max(WINDOW, n);
    const next = size > this.buf.length ? Buffer.alloc(size) : this.buf;
    this.buf.copy(next, 0, this.pos, this.end);
    this.offset += this.pos;
    this.buf = next;
    this.pos = 0;
    this.end = kept;
    while (this.end < this.buf.length) {
      const { bytesRead } = await this.handle.read(this.buf, this.end, this.buf.length - this.end, this.offset + this.end);
      if (bytesRead === 0) {
        this.atEof = true;
        break;
      }
      this.end += bytesRead;
    }
  }

  private take(n: number): number {
    if (this.available < n) this.truncated(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private truncated(wanted: number): never {
    const why = this.atEof ? `the file ends at byte ${this.offset + this.end}` : 'the reader was not filled (a bug)';
    throw new ModelFileError(`${wanted} more bytes of ${this.section} expected at byte ${this.position}: ${why}`);
  }

  /** The next readable bytes, without taking them (the dictionary looks for the end of a word). */
  peek(): Uint8Array {
    return this.buf.subarray(this.pos, this.end);
  }

  skip(n: number): void {
    this.take(n);
  }

  uint8(): number {
    return this.buf[this.take(1)]!;
  }

  int32(): number {
    return this.buf.readInt32LE(this.take(4));
  }

  /** An int64 field: counts and sizes, all far below 2^53 in a real file. */
  int64(): number {
    const value = this.buf.readBigInt64LE(this.take(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelFileError(`${this.section}: a 64-bit field is out of range (${value})`);
    return Number(value);
  }

  float64(): number {
    return this.buf.readDoubleLE(this.take(8));
  }

  /** `n` bytes as a copy of their own. */
  async bytes(n: number): Promise<Uint8Array> {
    this.expect(n);
    const out = new Uint8Array(n);
    await this.readInto(out);
    return out;
  }

  /** `n` little-endian float32 values, read straight into their array. */
  async floats(n: number): Promise<Float32Array> {
    this.expect(4 * n);
    const out = new Float32Array(n);
    await this.readInto(new Uint8Array(out.buffer));
    return out;
  }

  /** Throws unless `n` more bytes are left in the file (a corrupt count would otherwise allocate gigabytes first). */
  expect(n: number): void {
    if (this.position + n > this.size) {
      throw new ModelFileError(`${n} more bytes of ${this.section} expected at byte ${this.position}: the file ends at byte ${this.size}`);
    }
  }

  private async readInto(out: Uint8Array): Promise<void> {
    const buffered = Math.min(this.available, out.length);
    out.set(this.buf.subarray(this.pos, this.pos + buffered));
    this.pos += buffered;
    let done = buffered;
    while (done < out.length) {
      const piece = Math.min(BULK_PIECE, out.length - done);
      const { bytesRead } = await this.handle.read(out, done, piece, this.position);
      if (bytesRead === 0) {
        this.atEof = true;
        throw new ModelFileError(`${out.length - done} more bytes of ${this.section} expected at byte ${this.position}: the file ends there`);
      }
      done += bytesRead;
      // The bytes went around the window: move the window past them.
      this.offset = this.position + bytesRead;
      this.pos = this.end = 0;
    }
  }
}
