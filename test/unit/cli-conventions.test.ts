// The conventions every `hala` verb follows (cli/conventions.ts), checked on the real command
// through the package's own bin, as a user on a fresh clone types it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { applyConventions, VerbExamples, verbExitCodes } from '../../cli/conventions';

const root = path.join(__dirname, '../..');
const hala = (...args: string[]) => {
  const r = spawnSync('npx', ['--no-install', 'hala', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  return { status: r.status, out: r.stdout + r.stderr };
};

describe('hala CLI conventions', () => {
  it('`npx hala` runs the clone\'s own bin; --help lists the exit codes', () => {
    const { status, out } = hala('--help');
    expect(status).toBe(0);
    expect(out).toMatch(/^Usage: hala /);
    expect(out).toMatch(/Exit codes:\n {2}0 {2}done\n {2}1 {2}the work failed .*\n {2}2 {2}refused before doing anything/);
  });

  it('each verb\'s --help ends with an example and the exit codes', () => {
    const { status, out } = hala('lineage', '--help');
    expect(status).toBe(0);
    expect(out.trimEnd().endsWith(`Example:\n  ${VerbExamples.lineage}\n\n${verbExitCodes}`)).toBe(true);
  });

  it('a usage error exits 2, naming what was wrong', () => {
    expect(hala('bogus')).toMatchObject({ status: 2, out: expect.stringContaining("unknown command 'bogus'") });
    expect(hala('ls', '--bogus')).toMatchObject({ status: 2, out: expect.stringContaining("unknown option '--bogus'") });
    expect(hala('status')).toMatchObject({ status: 2, out: expect.stringContaining("missing required argument 'campaign-id'") });
  });

  it('a server that cannot be reached exits 1 with the address', () => {
    const { status, out } = hala('ls');
    expect(status).toBe(1);
    expect(out).toMatch(/^hala: .*127\.0\.0\.1:1/m);
  });

  it('refuses a verb without an example, and a read verb without --json', () => {
    const missing = new Command('hala');
    missing.command('frobnicate').action(() => undefined);
    expect(() => applyConventions(missing)).toThrow('hala frobnicate has no example: add one to VerbExamples in cli/conventions.ts');
    const noJson = new Command('hala');
    noJson.command('ls').action(() => undefined);
    expect(() => applyConventions(noJson)).toThrow('hala ls reads, so it must offer --json (cli/conventions.ts ReadVerbs)');
  });
});
