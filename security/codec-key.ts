// The keys that encrypt Temporal payloads, loaded from the environment.
//   HALA_CODEC_KEY       base64 of 32 random bytes (openssl rand -base64 32): encrypts and decrypts
//   HALA_CODEC_KEY_FILE  path of a file holding that base64 text instead (a mounted secret)
//   HALA_CODEC_KEY_ID    optional id for that key (default: first 8 hex chars of its sha256)
//   HALA_CODEC_KEYS      old keys, decrypt only: comma-separated `id:base64` pairs, so history
//                        written before a rotation stays readable
// gpu-runners/hala_runners/payload_codec.py reads the same variables the same way.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface CodecKey {
  id: string;
  key: Buffer;
}

export interface CodecKeyring {
  /** The key new payloads are encrypted with. */
  active: CodecKey;
  /** Every key a payload may name in its `encryption-key-id`, the active one included. */
  byId: ReadonlyMap<string, Buffer>;
}

export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
}

const KEY_BYTES = 32; // AES-256
const GENERATE = 'generate one with: openssl rand -base64 32';
// Ids travel in payload metadata and in `id:base64` lists, so they must not contain ':' or ','.
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The default key id: first 8 hex chars of sha256(key); names the key without revealing it. */
export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Decodes a base64 key; `source` names where it came from so the error says what to fix. */
export function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  // Buffer.from(..., 'base64') silently skips bad characters and missing padding; Python's
  // b64decode(validate=True) does not, so check both here to accept exactly the same keys.
  if (!BASE64.test(trimmed) || trimmed.length % 4 !== 0) throw new CodecKeyError(`${source} is not base64; ${GENERATE}`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new CodecKeyError(`${source} must be base64 of ${KEY_BYTES} bytes for AES-256-GCM (got ${key.length} bytes); ${GENERATE}`);
  }
  return key;
}

function checkId(id: string, source: string): string {
  if (!ID_PATTERN.test(id)) throw new CodecKeyError(`${source} must be 1-64 characters of A-Z a-z 0-9 . _ - (got ${JSON.stringify(id)})`);
  return id;
}

function activeKey(env: NodeJS.ProcessEnv): Buffer | undefined {
  const inline = env.HALA_CODEC_KEY;
  const file = env.HALA_CODEC_KEY_FILE;
  if (inline && file) throw new CodecKeyError('set only one of HALA_CODEC_KEY and HALA_CODEC_KEY_FILE');
  if (inline) return parseKey(inline, 'HALA_CODEC_KEY');
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CodecKeyError(`HALA_CODEC_KEY_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); point it at a file holding the base64 key`);
  }
  return parseKey(text, `HALA_CODEC_KEY_FILE (${file})`);
}

function oldKeys(list: string): [string, Buffer][] {
  return list.split(',').map((s) => s.trim()).filter(Boolean).map((entry, i) => {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new CodecKeyError(`HALA_CODEC_KEYS entry ${i + 1} must be id:base64 (got no ':')`);
    const id = checkId(entry.slice(0, colon), `HALA_CODEC_KEYS entry ${i + 1} id`);
    return [id, parseKey(entry.slice(colon + 1), `HALA_CODEC_KEYS entry ${i + 1} (${id})`)];
  });
}

/** The keyring configured in `env`, or undefined when no key is set (payloads stay in clear). */
export function loadCodecKeys(env: NodeJS.ProcessEnv = process.env): CodecKeyring | undefined {
  const key = activeKey(env);
  if (!key) {
    if (env.HALA_CODEC_KEYS) throw new CodecKeyError('HALA_CODEC_KEYS only holds old keys for decrypting; also set HALA_CODEC_KEY or HALA_CODEC_KEY_FILE to the key that encrypts');
    return undefined;
  }
  const active = { id: env.HALA_CODEC_KEY_ID ? checkId(env.HALA_CODEC_KEY_ID, 'HALA_CODEC_KEY_ID') : keyIdOf(key), key };
  const byId = new Map<string, Buffer>([[active.id, key]]);
  for (const [id, old] of oldKeys(env.HALA_CODEC_KEYS ?? '')) {
    const known = byId.get(id);
    // Two different keys under one id would make decryption depend on which one won.
    if (known && !known.equals(old)) throw new CodecKeyError(`HALA_CODEC_KEYS names key id ${id} twice with different keys (or reuses the active key's id); give each key its own id`);
    byId.set(id, old);
  }
  return { active, byId };
}
