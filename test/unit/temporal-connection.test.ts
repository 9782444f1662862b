// Where the CLI and the CPU worker connect (platform/temporal-connection.ts): Temporal's envconfig
// conventions, in the same order of precedence as the Python workers. No server: settings only.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envForProfileFile, envWithFlags, resolveConnection, writeProfileFile } from '../../platform/temporal-connection';

const dir = mkdtempSync(path.join(tmpdir(), 'hala-connection-'));
const profiles = path.join(dir, 'temporal.toml');
writeFileSync(
  profiles,
  ['[profile.default]', 'address = "default.example:7233"', '', '[profile.prod]', 'address = "prod.example:7233"', 'namespace = "hala-prod"', 'api_key = "secret-key"', ''].join('\n'),
);
// A HOME without a default profile file, so that only what a test names is read.
const home = { HOME: dir };

describe('resolveConnection', () => {
  it('with nothing configured, is the local dev server and says so', () => {
    const c = resolveConnection({}, home);
    expect([c.address, c.namespace, c.addressConfigured]).toEqual(['127.0.0.1:7233', 'default', false]);
    expect(c.connectionOptions.tls).toBeUndefined();
    expect(c.describe).toBe('127.0.0.1:7233 namespace default (nothing configured: the local dev server)');
  });

  it('reads the profile TEMPORAL_PROFILE names from TEMPORAL_CONFIG_FILE: address, namespace, API key with TLS', () => {
    const c = resolveConnection({}, { ...home, TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'prod' });
    expect([c.address, c.namespace, c.addressConfigured]).toEqual(['prod.example:7233', 'hala-prod', true]);
    expect(c.connectionOptions).toMatchObject({ address: 'prod.example:7233', apiKey: 'secret-key', tls: true });
    expect(c.describe).toBe(`prod.example:7233 namespace hala-prod, TLS (from profile 'prod' of ${profiles})`);
  });

  it('takes --profile over TEMPORAL_PROFILE, and the default profile when neither names one', () => {
    expect(resolveConnection({ profile: 'prod' }, { ...home, TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'default' }).namespace).toBe('hala-prod');
    expect(resolveConnection({}, { ...home, TEMPORAL_CONFIG_FILE: profiles }).address).toBe('default.example:7233');
  });

  it('puts TEMPORAL_* variables over the profile, and flags over the variables', () => {
    const env = { ...home, TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: 'env.example:1', TEMPORAL_NAMESPACE: 'from-env' };
    const fromEnv = resolveConnection({}, env);
    expect([fromEnv.address, fromEnv.namespace]).toEqual(['env.example:1', 'from-env']);
    expect(fromEnv.describe).toContain('(from TEMPORAL_ADDRESS)');
    const fromFlags = resolveConnection({ address: 'flag.example:2', namespace: 'from-flag' }, env);
    expect([fromFlags.address, fromFlags.namespace]).toEqual(['flag.example:2', 'from-flag']);
  });

  it('turns TLS on from TEMPORAL_TLS=true with nothing else set', () => {
    expect(resolveConnection({}, { ...home, TEMPORAL_ADDRESS: 'tls.example:7233', TEMPORAL_TLS: 'true' }).connectionOptions.tls).toBeTruthy();
  });

  it('refuses a TEMPORAL_CONFIG_FILE that does not exist instead of falling back to localhost', () => {
    const missing = path.join(dir, 'typo.toml');
    expect(() => resolveConnection({}, { ...home, TEMPORAL_CONFIG_FILE: missing })).toThrow(`TEMPORAL_CONFIG_FILE names ${missing}, which does not exist`);
  });

  it('names the profile and the file when the profile is not in it', () => {
    expect(() => resolveConnection({ profile: 'staging' }, { ...home, TEMPORAL_CONFIG_FILE: profiles })).toThrow(`profile 'staging' from ${profiles}`);
  });
});

describe('what child processes are given', () => {
  it('hands flags on as the variables they stand for, so a child resolves the same connection', () => {
    const env = { ...home, TEMPORAL_CONFIG_FILE: profiles };
    const flags = { profile: 'prod', namespace: 'from-flag' };
    const child = envWithFlags(env, flags);
    expect(child).toMatchObject({ TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'from-flag', TEMPORAL_CONFIG_FILE: profiles });
    expect(resolveConnection({}, child)).toMatchObject({ address: resolveConnection(flags, env).address, namespace: 'from-flag' });
  });

  it('points the local stack\'s workers at its profile file only, whatever the shell set', () => {
    const file = path.join(dir, 'stack.toml');
    writeProfileFile(file, { address: '127.0.0.1:7999', namespace: 'hala-local' });
    expect(readFileSync(file, 'utf8')).toContain('[profile.default]');
    const child = envForProfileFile({ ...home, PATH: '/bin', TEMPORAL_ADDRESS: 'elsewhere:1', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS_SERVER_NAME: 'x', TEMPORAL_PROFILE: 'prod' }, file);
    expect(child).toEqual({ ...home, PATH: '/bin', TEMPORAL_CONFIG_FILE: file });
    const c = resolveConnection({}, child);
    expect([c.address, c.namespace, c.connectionOptions.tls]).toEqual(['127.0.0.1:7999', 'hala-local', undefined]);
  });
});
