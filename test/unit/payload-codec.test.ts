// Payload encryption: the pinned cross-language bytes, round trips, and the errors an operator sees.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import vectorFile from '../../contracts/codec-vectors.json';
import { type CodecKeyring, keyIdOf, loadCodecKeys } from '../../security/codec-key';
import { dataConverterFromEnv } from '../../security/data-converter';
import { EncryptionCodec, encryptWithNonce } from '../../security/payload-codec';
import { type JsonPayload, payloadFromJson, payloadToJson } from '../../security/payload-json';

interface CodecVectors {
  key: { id: string; base64: string };
  vectors: { name: string; payload: JsonPayload; nonce: string; encrypted: JsonPayload }[];
}
const vectors: CodecVectors = vectorFile as CodecVectors;

const testKey = Buffer.from(vectors.key.base64, 'base64');
const keyring = (): CodecKeyring => loadCodecKeys({ HALA_CODEC_KEY: vectors.key.base64 })!;
const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const json = (value: unknown): Payload => ({ metadata: { encoding: text('json/plain') }, data: text(JSON.stringify(value)) });
const otherKey = Buffer.alloc(32, 7).toString('base64');
// Compared in their base64 JSON form: protobufjs hands back Buffers where callers built Uint8Arrays.
const asJson = (ps: Payload[]) => ps.map(payloadToJson);

describe('codec vectors (contracts/codec-vectors.json, shared with Python)', () => {
  it('names the test key by the first 8 hex chars of its sha256', () => {
    expect(keyIdOf(testKey)).toBe(vectors.key.id);
    expect(keyring().active.id).toBe(vectors.key.id);
  });

  it.each(vectors.vectors)('$name: encrypts to the pinned bytes and decrypts back', async (v) => {
    const encrypted = encryptWithNonce(payloadFromJson(v.payload), { id: vectors.key.id, key: testKey }, Buffer.from(v.nonce, 'base64'));
    expect(payloadToJson(encrypted)).toEqual(v.encrypted);
    const decoded = await new EncryptionCodec(keyring()).decode([payloadFromJson(v.encrypted)]);
    expect(asJson(decoded)).toEqual([v.payload]);
  });
});

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec(keyring());

  it('round-trips payloads and never leaves the text in clear', async () => {
    const original = [json('secret corpus row'), json({ prompt: 'ترجم' }), { metadata: { encoding: text('binary/null') }, data: new Uint8Array() }];
    const encoded = await codec.encode(original);
    for (const p of encoded) {
      expect(Buffer.from(p.metadata!.encoding!).toString()).toBe('binary/encrypted');
      expect(Buffer.from(p.data!).includes('secret')).toBe(false);
    }
    expect(asJson(await codec.decode(encoded))).toEqual(asJson(original));
  });

  it('uses a fresh nonce each time, so equal payloads encrypt differently', async () => {
    const [a, b] = await codec.encode([json('same'), json('same')]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('passes payloads that are not binary/encrypted through decode untouched', async () => {
    const plain = [json('hello'), { metadata: {}, data: text('raw') }];
    expect(await codec.decode(plain)).toEqual(plain);
  });

  it('names the unknown key id and the variable to set', async () => {
    const [encoded] = await new EncryptionCodec(loadCodecKeys({ HALA_CODEC_KEY: otherKey, HALA_CODEC_KEY_ID: 'rotated-2023' })!).encode([json('x')]);
    await expect(codec.decode([encoded!])).rejects.toThrow(/key id rotated-2023, which is not loaded.*HALA_CODEC_KEYS as rotated-2023:<base64 key>/);
  });

  it('decrypts with an old key from HALA_CODEC_KEYS after rotation', async () => {
    const [old] = await codec.encode([json('before rotation')]);
    const rotated = loadCodecKeys({ HALA_CODEC_KEY: otherKey, HALA_CODEC_KEYS: `${vectors.key.id}:${vectors.key.base64}` })!;
    expect(rotated.active.id).toBe(keyIdOf(Buffer.from(otherKey, 'base64')));
    expect(asJson(await new EncryptionCodec(rotated).decode([old!]))).toEqual(asJson([json('before rotation')]));
  });

  it('rejects a tampered ciphertext, tag or truncated payload', async () => {
    const [encoded] = await codec.encode([json('secret corpus row')]);
    for (const index of [12, encoded!.data!.length - 1]) {
      const data = Buffer.from(encoded!.data!);
      data[index]! ^= 1;
      await expect(codec.decode([{ ...encoded, data }])).rejects.toThrow(`key id ${vectors.key.id}) failed authentication`);
    }
    await expect(codec.decode([{ ...encoded, data: encoded!.data!.subarray(0, 20) }])).rejects.toThrow('truncated');
  });
});

describe('loading keys', () => {
  const load = (env: NodeJS.ProcessEnv) => () => loadCodecKeys(env);

  it('configures nothing when no key is set', () => {
    expect(loadCodecKeys({})).toBeUndefined();
    expect(dataConverterFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({ HALA_CODEC_KEY: vectors.key.base64 })?.payloadCodecs?.[0]).toBeInstanceOf(EncryptionCodec);
  });

  it('reads the key from HALA_CODEC_KEY_FILE and honours HALA_CODEC_KEY_ID', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'hala-key-')), 'codec.key');
    writeFileSync(file, `${vectors.key.base64}\n`);
    expect(loadCodecKeys({ HALA_CODEC_KEY_FILE: file })?.active).toEqual({ id: vectors.key.id, key: testKey });
    expect(loadCodecKeys({ HALA_CODEC_KEY_FILE: file, HALA_CODEC_KEY_ID: 'prod-1' })?.active.id).toBe('prod-1');
  });

  it('names the variable and the fix when a key is wrong', () => {
    expect(load({ HALA_CODEC_KEY: Buffer.alloc(16).toString('base64') })).toThrow('HALA_CODEC_KEY must be base64 of 32 bytes for AES-256-GCM (got 16 bytes); generate one with: openssl rand -base64 32');
    expect(load({ HALA_CODEC_KEY: 'not base64!' })).toThrow('HALA_CODEC_KEY is not base64');
    expect(load({ HALA_CODEC_KEY: vectors.key.base64.replace(/=$/, '') })).toThrow('HALA_CODEC_KEY is not base64'); // Python rejects missing padding too
    expect(load({ HALA_CODEC_KEY_FILE: '/nonexistent/codec.key' })).toThrow('HALA_CODEC_KEY_FILE=/nonexistent/codec.key cannot be read (ENOENT)');
    expect(load({ HALA_CODEC_KEY: vectors.key.base64, HALA_CODEC_KEY_FILE: '/k' })).toThrow('set only one of HALA_CODEC_KEY and HALA_CODEC_KEY_FILE');
    expect(load({ HALA_CODEC_KEY: vectors.key.base64, HALA_CODEC_KEY_ID: 'a:b' })).toThrow('HALA_CODEC_KEY_ID must be 1-64 characters');
  });

  it('names the HALA_CODEC_KEYS entry that is wrong', () => {
    const key = vectors.key.base64;
    expect(load({ HALA_CODEC_KEY: key, HALA_CODEC_KEYS: `old1:${otherKey},broken` })).toThrow("HALA_CODEC_KEYS entry 2 must be id:base64 (got no ':')");
    expect(load({ HALA_CODEC_KEY: key, HALA_CODEC_KEYS: 'old1:AAAA' })).toThrow('HALA_CODEC_KEYS entry 1 (old1) must be base64 of 32 bytes');
    expect(load({ HALA_CODEC_KEY: key, HALA_CODEC_KEYS: `${vectors.key.id}:${otherKey}` })).toThrow(`names key id ${vectors.key.id} twice`);
    expect(load({ HALA_CODEC_KEYS: `old1:${otherKey}` })).toThrow('also set HALA_CODEC_KEY or HALA_CODEC_KEY_FILE');
  });
});
