// fastText's Dictionary at prediction time (src/dictionary.cc): a token's id, found by its FNV-1a
// hash in an open-addressing table of ceil(size / 0.7) slots; its input rows (the word's own row
// and its character n-grams' rows); and the word n-grams' rows. Tokens arrive as UTF-8 bytes.
// Behaviours reproduced, each where it happens:
//   - the hash XORs each byte as a *signed* char (Dictionary::hash's int8_t cast), so bytes >= 0x80
//     flip the upper 24 bits too;
//   - character n-grams are of "<" + word + ">", counted in UTF-8 code points (continuation bytes
//     10xxxxxx never start one), minn..maxn long, never "<" or ">" alone (computeSubwords);
//   - an n-gram's row is nwords + hash % bucket, or through pruneidx when the model was pruned
//     (an n-gram missing from it has no row), and none at all when pruneidx is empty (pushHash);
//   - "</s>" has no n-grams (initNgrams, addSubwords);
//   - word n-grams hash the words' int32 hashes in uint64 arithmetic (h * 116049371 + next), the
//     int32 -> uint64 conversion sign-extending (addWordNgrams).
import type { FastTextModel } from './fasttext-model';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
const WORD_NGRAM_PRIME = 116049371;
/** Subword rows precomputed at load, at most (16 MB): the first words, the most frequent (the dictionary is sorted by count). */
export const PRECOMPUTED_ROWS = 4 << 20;
const EOS = new TextEncoder().encode('</s>');

/** Out-of-vocabulary words whose n-gram rows are remembered (direct-mapped by hash), and the longest kept. */
const CACHE_SLOTS = 1 << 14;
const CACHE_BYTES = 32;
const CACHE_ROWS = 64;

/** A growable list of int32 (input rows; word hashes), reused from text to text. */
export class IntList {
  items = new Int32Array(256);
  length = 0;
  push(value: number): void {
    if (this.length === this.items.length) {
      const next = new Int32Array(this.items.length * 2);
      next.set(this.items);
      this.items = next;
    }
    this.items[this.length++] = value;
  }
}

/**
 * x mod n for a uint32 x and 0 < n < 2^31, as `x % n` computes it in C++ (unsigned), given
 * inverse = 1 / n. JS's % on a uint32 fell back to a float modulo call at times. x * inverse is
 * within 2^-40 of x / n, so the quotient's floor is off by one at most (when x / n is a whole
 * number), and the remainder is put back in [0, n).
 */
export function uint32Mod(x: number, n: number, inverse: number): number {
  const r = x - Math.floor(x * inverse) * n;
  return r >= n ? r - n : r < 0 ? r + n : r;
}

/** Dictionary::hash over bytes[start, end). */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ ((bytes[i]! << 24) >> 24), FNV_PRIME);
  return h;
}

export class FastTextWords {
  readonly nwords: number;
  private readonly minn: number;
  private readonly maxn: number;
  private readonly bucket: number;
  private readonly bytes: Uint8Array;
  private readonly start: Int32Array;
  private readonly hashes: Int32Array;
  private readonly slots: Int32Array;
  private readonly slotsInverse: number;
  private readonly bucketInverse: number;
  /** One bit per n-gram bucket when pruned: set when pruneidx keeps it (most n-grams are not kept: one bit answers them). */
  private readonly kept: Uint32Array;
  /** pruneidx as an open-addressing table (keys: bucket ids; -1 empty), or null when not pruned. */
  private readonly pruneKeys: Int32Array | null;
  private readonly pruneRows: Int32Array;
  private readonly pruneShift: number;
  private readonly noNgrams: boolean;
  /** Words below this id have their rows precomputed: word i's are subRows[subFrom[i], subFrom[i + 1]); the others' are computed when met. */
  private readonly precomputed: number;
  private readonly subFrom: Int32Array;
  private readonly subRows: Int32Array;
  /** "<" + word + ">" of the word being split. */
  private wrapped = new Uint8Array(64);
  readonly eos: number;
  /**
   * Recent out-of-vocabulary words and their n-gram rows: a corpus repeats its words (Zipf), and
   * splitting a word into n-grams (hash, modulo, pruneidx probe per n-gram) cost 40% of a text.
   * Slot = hash's low bits; a hit compares the bytes, so a collision only costs a recomputation.
   */
  private readonly cacheLength = new Uint8Array(CACHE_SLOTS);
  private readonly cacheHash = new Int32Array(CACHE_SLOTS);
  private readonly cacheBytes = new Uint8Array(CACHE_SLOTS * CACHE_BYTES);
  private readonly cacheCount = new Uint8Array(CACHE_SLOTS);
  private readonly cacheRows = new Int32Array(CACHE_SLOTS * CACHE_ROWS);

  constructor(model: FastTextModel, precomputedRows = PRECOMPUTED_ROWS) {
    const { dict, args } = model;
    this.nwords = dict.nwords;
    this.minn = args.minn;
    this.maxn = args.maxn;
    this.bucket = args.bucket;
    this.bytes = dict.bytes;
    this.start = dict.start;
    const size = dict.nwords + dict.nlabels;
    this.hashes = new Int32Array(size);
    for (let i = 0; i < size; i++) this.hashes[i] = fnv1a(this.bytes, this.start[i]!, this.start[i + 1]!);
    // Dictionary::load: word2int_ of ceil(size / 0.7) slots, filled in entry order.
    this.slots = new Int32Array(Math.ceil(size / 0.7)).fill(-1);
    this.slotsInverse = 1 / this.slots.length;
    this.bucketInverse = 1 / this.bucket;
    for (let i = 0; i < size; i++) this.slots[this.slot(this.bytes, this.start[i]!, this.start[i + 1]!, this.hashes[i]!)] = i;

    this.noNgrams = dict.pruneidxSize === 0;
    if (dict.pruneidxSize > 0) {
      const bits = Math.max(4, Math.ceil(Math.log2(dict.pruneidxSize * 2)));
      this.pruneShift = 32 - bits;
      this.pruneKeys = new Int32Array(1 << bits).fill(-1);
      this.pruneRows = new Int32Array(1 << bits);
      this.kept = new Uint32Array(Math.ceil(this.bucket / 32));
      // Read into a std::unordered_map: a bucket listed twice keeps its last row.
      for (let i = 0; i < dict.pruneidxSize; i++) {
        let at = Math.imul(dict.pruneFrom[i]!, 0x9e3779b1) >>> this.pruneShift;
        while (this.pruneKeys[at] !== -1 && this.pruneKeys[at] !== dict.pruneFrom[i]) at = (at + 1) & (this.pruneKeys.length - 1);
        this.pruneKeys[at] = dict.pruneFrom[i]!;
        this.pruneRows[at] = dict.pruneTo[i]!;
        const bucket = dict.pruneFrom[i]!;
        if (bucket >= 0 && bucket < this.bucket) this.kept[bucket >>> 5]! |= 1 << (bucket & 31);
      }
    } else {
      this.kept = new Uint32Array(0);
      this.pruneKeys = null;
      this.pruneRows = new Int32Array(0);
      this.pruneShift = 0;
    }

    this.eos = this.find(EOS, 0, EOS.length, fnv1a(EOS, 0, EOS.length));
    // Dictionary::initNgrams: a word's rows are its own and its n-grams'.
    const rows = new IntList();
    const from = [0];
    while (from.length <= this.nwords && rows.length < precomputedRows) {
      this.computeWordRows(from.length - 1, rows);
      from.push(rows.length);
    }
    this.precomputed = from.length - 1;
    this.subFrom = Int32Array.from(from);
    this.subRows = rows.items.slice(0, rows.length);
  }

  /** Dictionary::find: the slot of bytes[start, end) (hash h), where it is or where it would go. */
  private slot(bytes: Uint8Array, start: number, end: number, h: number): number {
    const n = this.slots.length;
    let at = uint32Mod(h >>> 0, n, this.slotsInverse);
    for (;;) {
      const id = this.slots[at]!;
      if (id === -1 || (this.hashes[id] === h && this.same(id, bytes, start, end))) return at;
      at = at + 1 === n ? 0 : at + 1;
    }
  }

  private same(id: number, bytes: Uint8Array, start: number, end: number): boolean {
    const from = this.start[id]!;
    if (this.start[id + 1]! - from !== end - start) return false;
    for (let i = start; i < end; i++) if (this.bytes[from + i - start] !== bytes[i]) return false;
    return true;
  }

  /** The entry id of the token bytes[start, end) with hash h, or -1. */
  find(bytes: Uint8Array, start: number, end: number, h: number): number {
    return this.slots[this.slot(bytes, start, end, h)]!;
  }

  /** Dictionary::pushHash: the input row of n-gram bucket `id`, or -1 when it has none. */
  private ngramRow(id: number): number {
    if (this.noNgrams) return -1;
    const keys = this.pruneKeys;
    if (keys === null) return this.nwords + id;
    if ((this.kept[id >>> 5]! & (1 << (id & 31))) === 0) return -1;
    const mask = keys.length - 1;
    for (let at = Math.imul(id, 0x9e3779b1) >>> this.pruneShift; ; at = (at + 1) & mask) {
      const key = keys[at]!;
      if (key === id) return this.nwords + this.pruneRows[at]!;
      if (key === -1) return -1;
    }
  }

  /** Rows of dictionary word `id` (Dictionary::getSubwords(id)), appended to `rows`. */
  addWordRows(id: number, rows: IntList): void {
    if (id >= this.precomputed) return this.computeWordRows(id, rows);
    for (let i = this.subFrom[id]!, to = this.subFrom[id + 1]!; i < to; i++) rows.push(this.subRows[i]!);
  }

  private computeWordRows(id: number, rows: IntList): void {
    rows.push(id);
    if (id !== this.eos) this.addNgramRows(this.bytes, this.start[id]!, this.start[id + 1]!, rows);
  }

  /** The n-gram rows of an out-of-vocabulary token (hash h), appended to `rows`: from the cache, or computed and cached. */
  addTokenNgramRows(bytes: Uint8Array, start: number, end: number, h: number, rows: IntList): void {
    const length = end - start;
    const slot = h & (CACHE_SLOTS - 1);
    if (this.cacheLength[slot] === length && this.cacheHash[slot] === h && length > 0) {
      let same = true;
      for (let i = 0, at = slot * CACHE_BYTES; i < length; i++, at++) {
        if (this.cacheBytes[at] !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        for (let i = 0, at = slot * CACHE_ROWS, n = this.cacheCount[slot]!; i < n; i++, at++) rows.push(this.cacheRows[at]!);
        return;
      }
    }
    const first = rows.length;
    this.addNgramRows(bytes, start, end, rows);
    const count = rows.length - first;
    if (length > CACHE_BYTES || count > CACHE_ROWS) return;
    this.cacheLength[slot] = length;
    this.cacheHash[slot] = h;
    this.cacheBytes.set(bytes.subarray(start, end), slot * CACHE_BYTES);
    this.cacheCount[slot] = count;
    this.cacheRows.set(rows.items.subarray(first, rows.length), slot * CACHE_ROWS);
  }

  /** Rows of the character n-grams of "<" + bytes[start, end) + ">" (Dictionary::computeSubwords), appended to `rows`. */
  addNgramRows(bytes: Uint8Array, start: number, end: number, rows: IntList): void {
    // A bucket of 0 comes only with maxn 0 and wordNgrams 1 (Args): no n-grams (fastText would divide by zero).
    if (this.bucket === 0) return;
    const len = end - start + 2;
    if (this.wrapped.length < len) this.wrapped = new Uint8Array(len * 2);
    const w = this.wrapped;
    w[0] = 0x3c; // <
    w.set(bytes.subarray(start, end), 1);
    w[len - 1] = 0x3e; // >
    const { minn, maxn, bucket } = this;
    for (let i = 0; i < len; i++) {
      if ((w[i]! & 0xc0) === 0x80) continue;
      let h = FNV_OFFSET;
      let j = i;
      for (let n = 1; j < len && n <= maxn; n++) {
        h = Math.imul(h ^ ((w[j++]! << 24) >> 24), FNV_PRIME);
        while (j < len && (w[j]! & 0xc0) === 0x80) h = Math.imul(h ^ ((w[j++]! << 24) >> 24), FNV_PRIME);
        if (n >= minn && !(n === 1 && (i === 0 || j === len))) {
          const row = this.ngramRow(uint32Mod(h >>> 0, bucket, this.bucketInverse));
          if (row >= 0) rows.push(row);
        }
      }
    }
  }

  /** Rows of the word n-grams of the line's word hashes (Dictionary::addWordNgrams), appended to `rows`. */
  addWordNgramRows(hashes: IntList, n: number, rows: IntList): void {
    const { bucket } = this;
    if (bucket === 0) return;
    const h = hashes.items;
    for (let i = 0; i < hashes.length; i++) {
      // uint64_t h = hashes[i]: the int32 sign-extends. hi:lo are its two 32-bit halves.
      let lo = h[i]! >>> 0;
      let hi = h[i]! < 0 ? 0xffffffff : 0;
      for (let j = i + 1; j < hashes.length && j < i + n; j++) {
        // (hi:lo) * 116049371 mod 2^64: the low half by Math.imul, the carry out of it exactly in doubles (every term < 2^53).
        const carry = Math.floor(((lo >>> 16) * WORD_NGRAM_PRIME + Math.floor(((lo & 0xffff) * WORD_NGRAM_PRIME) / 65536)) / 65536);
        const mulLo = Math.imul(lo, WORD_NGRAM_PRIME) >>> 0;
        const mulHi = (Math.imul(hi, WORD_NGRAM_PRIME) + carry) >>> 0;
        // + hashes[j], sign-extended.
        const sum = mulLo + (h[j]! >>> 0);
        lo = sum >>> 0;
        hi = (mulHi + (h[j]! < 0 ? 0xffffffff : 0) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
        // (hi:lo) % bucket, 16 bits at a time (each step below 2^47).
        const row = this.ngramRow((((((hi % bucket) * 65536 + (lo >>> 16)) % bucket) * 65536 + (lo & 0xffff)) % bucket));
        if (row >= 0) rows.push(row);
      }
    }
  }
}
