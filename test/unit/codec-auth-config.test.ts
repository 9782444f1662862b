// `hala codec-server`'s flags: shared-secret mode end to end (real HTTP, HS256 tokens from jose), the
// claim forms, and every refusal at start, the open bind without --auth first.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import vectors from '../../contracts/codec-vectors.json';
import { codecServerSettings, type CodecServerFlags } from '../../cli/codec-server-command';
import { type CodecServer, startCodecServer } from '../../cli/codec-server';
import { codecAuthFromFlags, namespaceGrants } from '../../security/codec-auth';
import { loadCodecKeys } from '../../security/codec-key';
import { signToken } from '../support/jwt-issuer';

const root = path.join(__dirname, '../..');
const env = { HALA_CODEC_KEY: vectors.key.base64, HALA_CODEC_AUTH_SECRET: 's'.repeat(40) };
const flags = (more: Partial<CodecServerFlags> = {}): CodecServerFlags =>
  ({ port: '0', host: '127.0.0.1', corsOrigin: 'http://localhost:8233', namespacesClaim: 'permissions', ...more });
const quiet = { record: () => undefined, close: async () => undefined };

describe('hala codec-server --auth shared-secret', () => {
  let server: CodecServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('decodes for an HS256 token signed with HALA_CODEC_AUTH_SECRET, listening beyond loopback; refuses other signers', async () => {
    // realm_access.roles: a dotted path into the token, as Keycloak puts roles.
    const settings = codecServerSettings(flags({ host: '0.0.0.0', auth: 'shared-secret', namespacesClaim: 'realm_access.roles' }), env);
    expect(settings.auth).toMatchObject({ mode: 'shared-secret', secret: env.HALA_CODEC_AUTH_SECRET });
    server = await startCodecServer({ ...settings, audit: quiet });
    const decode = async (token: string) => (await fetch(`http://127.0.0.1:${server!.port}/decode`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'X-Namespace': 'hala' },
      body: JSON.stringify({ payloads: [vectors.vectors[0]!.encrypted] }),
    })).status;
    const claims = { realm_access: { roles: ['hala:read'] } };
    expect(await decode(await signToken({}, { alg: 'HS256', secret: env.HALA_CODEC_AUTH_SECRET, claims }))).toBe(200);
    expect(await decode(await signToken({}, { alg: 'HS256', secret: 't'.repeat(40), claims }))).toBe(401);
    expect(await decode(await signToken({}, { alg: 'HS256', secret: env.HALA_CODEC_AUTH_SECRET, claims: { permissions: ['hala:read'] } }))).toBe(403);
  });
});

describe('namespaceGrants', () => {
  it('reads <namespace>:<role> entries (Cloud namespace ids included) and plain names, keeping the strongest role', () => {
    expect(Object.fromEntries(namespaceGrants(['hala.a1b2c:read', 'hala.a1b2c:admin', 'dev', 'dev:worker', 'ops:owner', 7, '']))).toEqual({ 'hala.a1b2c': 'admin', dev: 'read' });
    expect(Object.fromEntries(namespaceGrants('dev:write, prod:read'))).toEqual({ dev: 'write', prod: 'read' });
    expect(namespaceGrants(undefined).size).toBe(0);
  });
});

describe('hala codec-server refuses at start', () => {
  it.each<[string, Partial<CodecServerFlags>, NodeJS.ProcessEnv, string]>([
    ['a non-loopback bind without --auth', { host: '0.0.0.0' }, env, 'refusing to listen on 0.0.0.0 without --auth'],
    ['a hostname bind without --auth', { host: 'codec.internal' }, env, 'without --auth'],
    ['shared-secret without HALA_CODEC_AUTH_SECRET', { auth: 'shared-secret' }, { HALA_CODEC_KEY: env.HALA_CODEC_KEY }, 'reads its secret from HALA_CODEC_AUTH_SECRET, which is not set'],
    ['a short shared secret', { auth: 'shared-secret' }, { ...env, HALA_CODEC_AUTH_SECRET: 'hunter2' }, 'at least 32 bytes (got 7)'],
    ['jwks without --jwks-url', { auth: 'jwks' }, env, '--auth jwks needs --jwks-url'],
    ['a plain-http JWKS off loopback', { auth: 'jwks', jwksUrl: 'http://idp.example.com/jwks' }, env, '--jwks-url must be https://'],
    ['--jwks-url without --auth', { jwksUrl: 'https://idp.example.com/jwks' }, env, '--jwks-url only take effect with --auth'],
    ['no codec key', {}, {}, 'no key configured'],
  ])('%s', (_what, more, environment, message) => {
    expect(() => codecServerSettings(flags(more), environment)).toThrow(message);
  });

  it('startCodecServer itself refuses an open bind without auth, and `npx hala codec-server --host 0.0.0.0` exits 2 naming --auth', async () => {
    await expect(startCodecServer({ port: 0, host: '::', keys: loadCodecKeys(env)!, corsOrigin: 'x', audit: quiet })).rejects.toThrow('refusing to listen on :: without --auth');
    expect(codecAuthFromFlags({ auth: 'jwks', jwksUrl: 'http://127.0.0.1:9/jwks', namespacesClaim: 'permissions' })).toMatchObject({ mode: 'jwks' });
    const r = spawnSync('npx', ['--no-install', 'hala', 'codec-server', '--host', '0.0.0.0'], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('codec-server: refusing to listen on 0.0.0.0 without --auth');
  });
});
