// The header of a safetensors file, read and checked against the file's size without reading a
// tensor: an 8-byte little-endian header length, that many bytes of JSON naming every tensor's
// dtype, shape and data_offsets (relative to the end of the header), then the data. One reader for
// `hala plan` (parameter counts) and the stage-open check of model files.
import { open } from 'node:fs/promises';

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsTensor>;
  /** Bytes of the file: 8 + header length + data. */
  size: number;
}

/** The file is not a whole safetensors file; the message says what is wrong with it (not which field holds it). */
export class SafetensorsInvalid extends Error {
  override readonly name = 'SafetensorsInvalid';
}

/** The safetensors library refuses headers over 100 MB; a larger length is garbage, not a header to allocate. */
const MAX_HEADER = 100_000_000;

/** Bytes per element of the dtypes the safetensors format names. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/**
 * Reads only the first 8 + header-length bytes of `file`. Throws SafetensorsInvalid when the file is
 * shorter or longer than its header says, the header is not JSON, or a tensor's data_offsets leave a
 * gap, overlap another tensor's or disagree with its shape and dtype — what the safetensors library
 * would only find when a runner loads the file.
 */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw new SafetensorsInvalid(`${file} is ${size} bytes, too short for the 8-byte header length a safetensors file begins with`);
    const head = Buffer.alloc(8);
    await handle.read(head, 0, 8, 0);
    const length = head.readBigUInt64LE(0);
    if (length > BigInt(size - 8) || length > BigInt(MAX_HEADER)) {
      const cut = length <= BigInt(MAX_HEADER) ? ' runs past the end of the file' : '';
      throw new SafetensorsInvalid(`${file} has a header of ${length} bytes${cut}; the file is ${size} bytes`);
    }
    const json = Buffer.alloc(Number(length));
    await handle.read(json, 0, json.length, 8);
    return { tensors: checkedTensors(file, json, size - 8 - json.length), size };
  } finally {
    await handle.close();
  }
}

function checkedTensors(file: string, json: Buffer, dataBytes: number): Record<string, SafetensorsTensor> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new SafetensorsInvalid(`${file} has a header that is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SafetensorsInvalid(`${file} has a header that is not a JSON object`);
  const tensors = Object.entries(parsed as Record<string, unknown>).filter(([name]) => name !== '__metadata__');
  const spans: [number, number, string][] = [];
  for (const [name, t] of tensors) {
    const { dtype, shape, data_offsets: span } = (t ?? {}) as Partial<SafetensorsTensor>;
    const whole = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
    if (typeof dtype !== 'string' || !Array.isArray(shape) || !shape.every(whole) || !Array.isArray(span) || span.length !== 2 || !span.every(whole) || span[0] > span[1]) {
      throw new SafetensorsInvalid(`${file}: tensor ${name} lacks a dtype, a shape or data_offsets [begin, end] in its header`);
    }
    const width = DTYPE_BYTES[dtype];
    const needs = width === undefined ? undefined : shape.reduce((a, d) => a * d, 1) * width;
    if (needs !== undefined && span[1] - span[0] !== needs) {
      throw new SafetensorsInvalid(`${file}: tensor ${name} of shape [${shape.join(', ')}] ${dtype} needs ${needs} bytes, its data_offsets [${span.join(', ')}] give ${span[1] - span[0]}`);
    }
    spans.push([span[0], span[1], name]);
  }
  // The data is the tensors back to back, nothing between them and nothing after the last.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let end = 0;
  for (const [begin, stop, name] of spans) {
    if (begin !== end) throw new SafetensorsInvalid(`${file}: tensor ${name} begins at data byte ${begin}, the tensor before it ends at ${end} (a gap or an overlap)`);
    end = stop;
  }
  if (end !== dataBytes) {
    const headerEnd = 8 + json.length;
    throw new SafetensorsInvalid(`${file} is ${headerEnd + dataBytes} bytes, but its header places tensor data up to byte ${headerEnd + end}`);
  }
  return Object.fromEntries(tensors) as Record<string, SafetensorsTensor>;
}
