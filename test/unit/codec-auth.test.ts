// The codec server as a shared service: real HTTP on loopback, real JWTs (jose) against a JWKS that a
// stand-in identity provider serves on loopback too, per-namespace permissions, the audit lines.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../../contracts/codec-vectors.json';
import { type CodecServerOptions, startCodecServer } from '../../cli/codec-server';
import { type AuditEntry, openAuditLog } from '../../security/codec-audit';
import { codecAuthFromFlags } from '../../security/codec-auth';
import { loadCodecKeys } from '../../security/codec-key';
import { AUDIENCE, type Issuer, ISSUER, startIssuer, type TokenOptions } from '../support/jwt-issuer';

const ui = 'http://localhost:8233';
const keys = loadCodecKeys({ HALA_CODEC_KEY: vectors.key.base64 })!;
const rowText = '"secret corpus row"';
const secret = Buffer.from(rowText).toString('base64');
const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: secret };
const encrypted = vectors.vectors[0]!.encrypted;

let idp: Issuer;
/** What a test opened (servers, audit logs), closed after it, last opened first. */
const opened: { close(): Promise<void> }[] = [];
const closeOpened = async () => {
  for (const c of opened.splice(0).reverse()) await c.close();
};
const scratch = mkdtempSync(path.join(tmpdir(), 'hala-codec-auth-'));
beforeAll(async () => {
  idp = await startIssuer();
});
afterEach(closeOpened);
afterAll(async () => {
  await idp?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A codec server checking the IdP's tokens (--auth jwks --issuer --audience), audited into `audit`; `call` posts to it. */
async function serve(audit: AuditEntry[] = [], extra: Partial<CodecServerOptions> = {}) {
  const auth = codecAuthFromFlags({ auth: 'jwks', jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE, namespacesClaim: 'permissions' });
  const server = await startCodecServer({ port: 0, keys, corsOrigin: ui, auth, audit: { record: (e) => void audit.push(e), close: async () => undefined }, ...extra });
  opened.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  const call = (route: string, { token, authorization = token && `Bearer ${token}`, namespace = 'hala', body = { payloads: [encrypted] } }: Call = {}) =>
    fetch(`${base}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: ui, 'X-Namespace': namespace, ...(authorization && { Authorization: authorization }) },
      body: JSON.stringify(body),
    });
  return { call, base };
}
interface Call { token?: string; authorization?: string; namespace?: string; body?: unknown }
const may = (...permissions: string[]): TokenOptions => ({ claims: { permissions } });

describe('hala codec-server --auth jwks', () => {
  it('decodes for a valid RS256 or ES256 token that may read the namespace, and encodes with write or admin', async () => {
    const { call } = await serve();
    for (const alg of ['RS256', 'ES256'] as const) {
      const res = await call('/decode', { token: await idp.sign({ alg, ...may('hala:read') }) });
      expect(res.status, alg).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(ui);
      expect(await res.json()).toEqual({ payloads: [expect.objectContaining({ data: vectors.vectors[0]!.payload.data })] });
    }
    for (const role of ['write', 'admin']) {
      const res = await call('/encode', { token: await idp.sign(may(`hala:${role}`)), body: { payloads: [plain] } });
      expect(res.status, role).toBe(200);
    }
  });

  it.each<[string, TokenOptions | 'none' | 'basic', string]>([
    ['no token', 'none', 'no bearer token'],
    ['a non-Bearer Authorization header', 'basic', 'not "Bearer <JWT>"'],
    ['an expired token', { expiresIn: -120, ...may('hala:read') }, 'it has expired'],
    ['a bad signature', { forged: true, ...may('hala:read') }, 'its signature does not verify against the JWKS at http://127.0.0.1'],
    ['the wrong issuer', { iss: 'https://evil.test/', ...may('hala:read') }, `its issuer is not ${ISSUER} (--issuer)`],
    ['the wrong audience', { aud: 'someone-else', ...may('hala:read') }, `its audience does not include ${AUDIENCE} (--audience)`],
    ['an HS256 token', { alg: 'HS256', secret: 'x'.repeat(32), ...may('hala:read') }, 'it is not signed with RS256 or ES256'],
    ['a token without sub', { sub: null, ...may('hala:read') }, 'missing required "sub" claim'],
  ])('refuses %s with 401, a WWW-Authenticate challenge and a JSON reason', async (_what, token, reason) => {
    const audit: AuditEntry[] = [];
    const { call } = await serve(audit);
    const res = token === 'none' ? await call('/decode')
      : token === 'basic' ? await call('/decode', { authorization: 'Basic YWxpY2U6cHc=' })
        : await call('/decode', { token: await idp.sign(token) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="hala-codec-server"/);
    if (typeof token === 'object') expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('unauthorized');
    expect(body.message).toContain(reason);
    expect(audit.at(-1)).toMatchObject({ sub: null, outcome: 'unauthorized', status: 401, payloads: null });
  });

  it('refuses with 403 a namespace the token does not grant, saying what it needs and what it grants', async () => {
    const { call } = await serve();
    const res = await call('/decode', { token: await idp.sign(may('dev:read', 'staging:admin')), namespace: 'prod' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'forbidden', message: 'alice may not decode payloads of namespace prod: that needs prod:read (or write, admin) ' +
      'in the token\'s permissions claim (--namespaces-claim), which grants dev:read, staging:admin' });
  });

  it('refuses with 403 an encode by a token that may only read the namespace', async () => {
    const { call } = await serve();
    const res = await call('/encode', { token: await idp.sign(may('hala:read')), body: { payloads: [plain] } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('needs hala:write or hala:admin');
  });

  it('takes a plain list of namespace names (or one space-separated string) as read permission', async () => {
    const { call } = await serve();
    for (const permissions of [['dev', 'hala'], 'dev hala']) {
      const token = await idp.sign({ claims: { permissions } });
      expect((await call('/decode', { token })).status).toBe(200);
      expect((await call('/encode', { token, body: { payloads: [plain] } })).status).toBe(403);
    }
  });

  it('answers the browser preflight and the health probe without a token', async () => {
    const { base } = await serve();
    const preflight = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: ui, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('says 503, not 401, when the JWKS cannot be fetched: the token may be fine', async () => {
    const auth = codecAuthFromFlags({ auth: 'jwks', jwksUrl: idp.jwksUrl.replace('jwks.json', 'gone.json'), namespacesClaim: 'permissions' });
    const { call } = await serve([], { auth });
    const res = await call('/decode', { token: await idp.sign(may('hala:read')) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toContain('cannot check tokens now: fetching the JWKS at');
  });

  it('writes one audit line per call to --audit-log: sub, namespace, endpoint, payload count, outcome; never the payloads', async () => {
    const file = path.join(scratch, 'audit.log');
    const audit = openAuditLog(file);
    opened.push(audit);
    const { call } = await serve(undefined, { audit });
    await call('/decode', { token: await idp.sign({ sub: 'alice', ...may('hala:read') }), body: { payloads: [encrypted, encrypted] } });
    await call('/encode', { token: await idp.sign({ sub: 'alice', ...may('hala:read') }), body: { payloads: [plain] } });
    await call('/encode', { token: await idp.sign({ sub: 'bob', ...may('hala:write') }), body: { payloads: [plain] } });
    await call('/decode', { namespace: 'prod' });
    await closeOpened(); // the server, then the log: every line written
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const { time } of lines) expect(Math.abs(Date.parse(time as string) - Date.now())).toBeLessThan(60_000);
    expect(lines.map(({ time: _time, ...rest }) => rest)).toEqual([
      { sub: 'alice', namespace: 'hala', endpoint: '/decode', payloads: 2, outcome: 'ok', status: 200 },
      { sub: 'alice', namespace: 'hala', endpoint: '/encode', payloads: null, outcome: 'forbidden', status: 403 },
      { sub: 'bob', namespace: 'hala', endpoint: '/encode', payloads: 1, outcome: 'ok', status: 200 },
      { sub: null, namespace: 'prod', endpoint: '/decode', payloads: null, outcome: 'unauthorized', status: 401 },
    ]);
    for (const leak of [rowText, secret, vectors.vectors[0]!.payload.data, encrypted.data]) expect(text).not.toContain(leak);
  });
});
