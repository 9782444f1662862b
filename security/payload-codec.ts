// AES-256-GCM encryption of every Temporal payload, so dataset rows, prompts and configs never sit
// in clear in workflow history. The scheme is that of Temporal's official encryption samples, so
// the Python codec (gpu-runners/hala_runners/payload_codec.py) reads and writes the same bytes:
//   metadata  {encoding: binary/encrypted, encryption-key-id: <id>, encryption-cipher: AES-256-GCM}
//   data      nonce (12 random bytes) || AES-GCM ciphertext || tag (16 bytes)
//   plaintext the original Payload, serialized as temporal.api.common.v1.Payload protobuf
// contracts/codec-vectors.json pins the bytes; both languages' tests check them.
// This runs in the worker process, outside the workflow sandbox, so node:crypto is fine here.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKey, CodecKeyring } from './codec-key';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const ProtoPayload = temporal.api.common.v1.Payload;
const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const utf8 = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/**
 * Serializes with metadata keys sorted, as Python's SerializeToString(deterministic=True) does,
 * so equal payloads give equal plaintext bytes on both sides (protobufjs keeps insertion order).
 */
function serialize(payload: Payload): Uint8Array {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return ProtoPayload.encode({ ...payload, metadata }).finish();
}

/** Encrypts one payload under `key` with the given nonce. Internal: only tests pick nonces. */
export function encryptWithNonce(payload: Payload, key: CodecKey, nonce: Uint8Array): Payload {
  if (nonce.length !== NONCE_BYTES) throw new Error(`AES-GCM nonce must be ${NONCE_BYTES} bytes (got ${nonce.length})`);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  const sealed = Buffer.concat([nonce, cipher.update(serialize(payload)), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { encoding: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(key.id), [CIPHER_METADATA]: text(CIPHER) },
    data: new Uint8Array(sealed),
  };
}

/** Decrypts one payload; anything not binary/encrypted is returned untouched. */
export function decryptPayload(payload: Payload, keys: CodecKeyring): Payload {
  if (utf8(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
  const id = utf8(payload.metadata?.[KEY_ID_METADATA]);
  if (!id) throw new Error(`encrypted payload has no ${KEY_ID_METADATA} metadata; it was not written by this codec`);
  const cipherName = utf8(payload.metadata?.[CIPHER_METADATA]);
  if (cipherName !== undefined && cipherName !== CIPHER) throw new Error(`encrypted payload uses cipher ${cipherName}; this codec only reads ${CIPHER}`);
  const key = keys.byId.get(id);
  if (!key) {
    throw new Error(`payload was encrypted with key id ${id}, which is not loaded (loaded: ${[...keys.byId.keys()].join(', ')}); ` +
      `add it to HALA_CODEC_KEYS as ${id}:<base64 key>, or set HALA_CODEC_KEY to it`);
  }
  const data = Buffer.from(payload.data ?? new Uint8Array());
  if (data.length < NONCE_BYTES + TAG_BYTES) throw new Error(`encrypted payload (key id ${id}) is truncated: ${data.length} bytes`);
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    // GCM authenticates: a flipped bit or a different key under the same id ends here.
    throw new Error(`encrypted payload (key id ${id}) failed authentication: it was altered, or the key loaded under ${id} is not the one that encrypted it`);
  }
  const { metadata, data: inner, externalPayloads } = ProtoPayload.decode(plain);
  return externalPayloads.length ? { metadata, data: inner, externalPayloads } : { metadata, data: inner };
}

/** The PayloadCodec for Workers and Clients: `dataConverter: { payloadCodecs: [new EncryptionCodec(keys)] }`. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    // A fresh random nonce per payload: reusing a nonce under one GCM key leaks plaintext.
    return payloads.map((p) => encryptWithNonce(p, this.keys.active, randomBytes(NONCE_BYTES)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => decryptPayload(p, this.keys));
  }
}
