// platform/: plumbing that cli, workers and activities share; it imports only contracts/ and security/.
// Where the Python side lives: the runner venv (built on demand by a script, cached outside the
// clone), the tiny-world hub mirror (shipped, checked against its digest) and the pinned CPU kernels.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..');

function script(name: string): string {
  return execFileSync('bash', [path.join(repoRoot, 'scripts', name)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

let venv: string | undefined;
/** The runner venv (scripts/python-env.sh); HALA_PYTHON_VENV overrides it. */
export function pythonVenv(): string {
  venv ??= process.env.HALA_PYTHON_VENV ?? script('python-env.sh');
  return venv;
}

export const venvBin = (name: string) => path.join(pythonVenv(), 'bin', name);

let mirror: string | undefined;
/** The offline hub mirror with the tiny world (scripts/fixtures.sh); HALA_HUB_MIRROR overrides it. */
export function hubMirror(): string {
  mirror ??= process.env.HALA_HUB_MIRROR ?? script('fixtures.sh');
  return mirror;
}

/**
 * The CPU kernel paths pinned for the local stack (gpu-runners/cpu-kernels.env says why), as
 * variables to add to a Python process's environment; a value already in `env` wins.
 */
export function pinnedCpuKernels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const line of readFileSync(path.join(repoRoot, 'gpu-runners', 'cpu-kernels.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) pins[match[1]!] = env[match[1]!] || match[2]!;
  }
  return pins;
}
