// The codec server the Temporal UI calls: real HTTP on loopback, CORS preflight, protocol errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../contracts/codec-vectors.json';
import { type CodecServer, startCodecServer } from '../../cli/codec-server';
import type { AuditEntry } from '../../security/codec-audit';
import { loadCodecKeys } from '../../security/codec-key';

const ui = 'http://localhost:8233';
const secret = Buffer.from('"secret corpus row"').toString('base64');
const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: secret };

describe('codec server', () => {
  let server: CodecServer;
  let base: string;
  const audit: AuditEntry[] = [];
  const post = (route: string, body: unknown) =>
    fetch(`${base}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: ui }, body: JSON.stringify(body) });

  beforeAll(async () => {
    server = await startCodecServer({ port: 0, keys: loadCodecKeys({ HALA_CODEC_KEY: vectors.key.base64 })!, corsOrigin: ui, audit: { record: (e) => void audit.push(e), close: async () => undefined } });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server?.close());

  it('encodes and decodes payloads over HTTP, with CORS headers for the UI', async () => {
    const encoded = await post('/encode', { payloads: [plain] });
    expect(encoded.status).toBe(200);
    expect(encoded.headers.get('access-control-allow-origin')).toBe(ui);
    const { payloads } = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(payloads[0]!.data).not.toContain(secret);

    const decoded = await post('/decode', { payloads });
    expect(await decoded.json()).toEqual({ payloads: [plain] });
    // No --auth: loopback only, and nobody to name in the audit line.
    expect(audit.slice(-2)).toEqual([
      { sub: null, namespace: 'default', endpoint: '/encode', payloads: 1, outcome: 'ok', status: 200 },
      { sub: null, namespace: 'default', endpoint: '/decode', payloads: 1, outcome: 'ok', status: 200 },
    ]);
  });

  it('decodes the pinned vectors, as the UI would for history written by Python workers', async () => {
    const res = await post('/decode', { payloads: vectors.vectors.map((v) => v.encrypted) });
    const { payloads } = (await res.json()) as { payloads: unknown[] };
    expect(payloads).toEqual(vectors.vectors.map((v) => expect.objectContaining({ data: v.payload.data })));
  });

  it('answers the browser preflight for the UI origin', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: ui, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ui);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('explains bad requests and unknown keys', async () => {
    const unknownKey = { ...vectors.vectors[0]!.encrypted, metadata: { ...vectors.vectors[0]!.encrypted.metadata, 'encryption-key-id': Buffer.from('gone').toString('base64') } };
    const cases: [Promise<Response>, number, string][] = [
      [post('/decode', { payloads: [unknownKey] }), 400, 'key id gone, which is not loaded'],
      [post('/decode', { nope: 1 }), 400, 'request body must be JSON {"payloads": [...]}'],
      [post('/decode', { payloads: [{ data: 5 }] }), 400, 'payloads[0].data must be a base64 string'],
      [post('/other', { payloads: [] }), 404, 'use POST /encode or POST /decode'],
      [fetch(`${base}/decode`), 405, '/decode takes POST'],
    ];
    for (const [response, status, message] of cases) {
      const res = await response;
      expect(res.status).toBe(status);
      expect(await res.text()).toContain(message);
    }
  });
});
