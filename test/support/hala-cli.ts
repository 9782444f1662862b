// `hala <args>` in a process of its own, as an operator runs it, against a given Temporal address:
// what the CLI tests check exit codes and printed sentences with.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const repoRoot = path.join(__dirname, '../..');

export interface HalaRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runHala(address: string, ...args: string[]): Promise<HalaRun> {
  const argv = ['--import', 'tsx', path.join(repoRoot, 'cli/hala.ts'), '--address', address, '--namespace', 'default', ...args];
  const environment = { ...process.env, NO_COLOR: '1', TEMPORAL_CONFIG_FILE: '' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv, { cwd: repoRoot, env: environment, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
