// The images that ship beyond this machine, checked offline: every Dockerfile (checkov, hadolint), every
// image lock, and what each image copies (deploy/ has its own: test/unit/deploy.test.ts).
// Run: npx vitest run test/unit/images.test.ts  (validators: $HALA_TOOLS_PYTHON, which
// scripts/test-all.sh exports, else scripts/tools-env.sh; the runner venv: $HALA_PYTHON, else scripts/python-env.sh)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DefaultQueues } from '../../contracts/queues';

const root = path.resolve(__dirname, '../..');
const venvPython = (envVar: string, script: string) =>
  process.env[envVar] ?? path.join(execFileSync('bash', [path.join(root, 'scripts', script)], { encoding: 'utf8' }).trim(), 'bin/python');
const toolsBin = path.dirname(venvPython('HALA_TOOLS_PYTHON', 'tools-env.sh'));
// Validators run with no credentials, and any attempt to reach the network fails at once.
const offline = { ...process.env, BC_API_KEY: '', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
const run = (cmd: string, args: string[], cwd = root) => {
  try {
    return { code: 0, out: execFileSync(cmd, args, { cwd, env: offline, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
};

const imageDirs = readdirSync(path.join(root, 'images')).filter((d) => existsSync(path.join(root, 'images', d, 'Dockerfile')));
const roleDirs = imageDirs.filter((d) => existsSync(path.join(root, 'images', d, 'requirements.lock')));
const dockerfile = (dir: string) => readFileSync(path.join(root, 'images', dir, 'Dockerfile'), 'utf8');
const pins = (lockPath: string) =>
  new Map([...readFileSync(path.join(root, lockPath), 'utf8').matchAll(/^([A-Za-z0-9._-]+)==(\S+)$/gm)].map((m) => [m[1]!.toLowerCase(), m[2]!]));

describe('images', () => {
  type CheckovResult = { file_path: string; check_id: string };
  let checkov: { passed: CheckovResult[]; failed: CheckovResult[]; parsingErrors: number };
  beforeAll(() => {
    // One checkov run for every Dockerfile (its start-up is most of its time).
    const { out } = run(path.join(toolsBin, 'checkov'), ['-d', 'images', '--framework', 'dockerfile', '--skip-download', '-o', 'json']);
    const report = JSON.parse(out);
    checkov = { passed: report.results.passed_checks, failed: report.results.failed_checks, parsingErrors: report.summary.parsing_errors };
  }, 120_000);

  it('are one per queue role, a GPU base and the CPU worker', () => {
    expect(imageDirs.sort()).toEqual(['cpu', 'eval', 'gpu-base', 'infer', 'quantize', 'train']);
    expect(roleDirs.sort()).toEqual(Object.keys(DefaultQueues).filter((r) => r !== 'cpu').sort());
  });

  it.each(imageDirs)('images/%s/Dockerfile passes checkov (no failed check) and hadolint (no finding)', (dir) => {
    const mine = (r: CheckovResult) => r.file_path === `/${dir}/Dockerfile`;
    expect(checkov.parsingErrors).toBe(0);
    expect(checkov.failed.filter(mine).map((r) => r.check_id)).toEqual([]);
    expect(checkov.passed.filter(mine).length).toBeGreaterThan(0);
    const hadolint = run(path.join(toolsBin, 'hadolint'), ['-c', '.hadolint.yaml', '-f', 'json', `images/${dir}/Dockerfile`]);
    expect(JSON.parse(hadolint.out)).toEqual([]);
    expect(hadolint.code).toBe(0);
  });

  it.each(roleDirs)('images/%s installs exactly its own lock, from the GPU base', (role) => {
    const text = dockerfile(role);
    const base = /^FROM (\S+)$/m.exec(text)?.[1];
    expect(base).toMatch(/^hala\/gpu-base:/);
    const copied = new RegExp(`^COPY images/${role}/requirements\\.lock (\\S+)$`, 'm').exec(text)?.[1];
    expect(copied).toBeDefined();
    expect(text).toMatch(new RegExp(`^RUN uv pip sync .*${copied!.replace(/[.]/g, '\\.')}$`, 'm'));
    const instructions = text.split('\n').filter((line) => !line.startsWith('#')).join('\n');
    expect(instructions.match(/requirements\.lock/g)?.length).toBe(3); // that COPY (source, destination) and that sync
  });

  it.each(roleDirs)('images/%s/requirements.lock pins every requirement, for CUDA on linux x86_64', (role) => {
    const lock = pins(`images/${role}/requirements.lock`);
    const named = (file: string): string[] =>
      readFileSync(path.join(root, file), 'utf8').split('\n').flatMap((line) => {
        const include = /^-r (\S+)/.exec(line);
        if (include) return named(path.join(path.dirname(file), include[1]!));
        const name = /^([A-Za-z0-9._-]+)/.exec(line.trim())?.[1];
        return name && !line.startsWith('#') ? [name.toLowerCase()] : [];
      });
    expect(named(`images/${role}/requirements.in`).filter((n) => !lock.has(n))).toEqual([]);
    // PyPI's linux x86_64 torch is the CUDA build: its CUDA runtime comes as wheels.
    expect(lock.has('torch') && lock.has('nvidia-cuda-runtime')).toBe(true);
    expect(readFileSync(path.join(root, `images/${role}/requirements.lock`), 'utf8')).toContain('#    bash scripts/compile-locks.sh');
  });

  it('the infer lock holds vllm and exactly the torch its wheel requires', () => {
    const text = readFileSync(path.join(root, 'images/infer/requirements.lock'), 'utf8');
    const recorded = /^# vllm==(\S+) requires torch==(\S+) /m.exec(text);
    expect(recorded, 'the pin compile-locks.sh reads from the vllm wheel').not.toBeNull();
    const lock = pins('images/infer/requirements.lock');
    expect(lock.get('vllm')).toBe(recorded![1]);
    expect(lock.get('torch')).toBe(recorded![2]);
  });

  it.each(['quantize', 'train', 'eval'])('images/%s runs the versions npm test runs (the runner lock constrains it)', (role) => {
    const runner = pins('gpu-runners/requirements.lock');
    const differing = [...pins(`images/${role}/requirements.lock`)].filter(([name, v]) => runner.has(name) && runner.get(name) !== v);
    expect(differing).toEqual([]);
  });

  describe('hold what their entry points import', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'hala-image-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    /** Lays out a copy of the image's COPY sources under `dir`, as the image would (WORKDIR = dir). */
    const layOut = (text: string, dir: string, workdir: string) => {
      for (const [, src, dest] of text.matchAll(/^COPY (?!--from)(\S+) (\S+)$/gm)) {
        const target = path.resolve(dir, path.relative(workdir, path.resolve(workdir, dest!)));
        cpSync(path.join(root, src!), dest!.endsWith('/') ? path.join(target, path.basename(src!)) : target, { recursive: true });
      }
    };

    it.each(roleDirs)('images/%s: the worker, its activities and the contract load from the copied files alone', (role) => {
      const dir = path.join(scratch, role);
      layOut(dockerfile(role), dir, '/opt/hala');
      const python = venvPython('HALA_PYTHON', 'python-env.sh');
      const probe = `import hala_runners.worker; from hala_runners import contract_file; from hala_runners.activities import activities_for_role
assert contract_file.path().is_relative_to(${JSON.stringify(dir)}), contract_file.path()
print(sorted(a.__temporal_activity_definition.name for a in activities_for_role(${JSON.stringify(role)})))`;
      const out = execFileSync(python, ['-c', probe], { cwd: dir, encoding: 'utf8', env: { ...offline, PYTHONPATH: path.join(dir, 'gpu-runners') } });
      expect(out).toMatch(/^\['\w+'/);
      expect(existsSync(path.join(dir, 'gpu-runners/tiny_world'))).toBe(false); // the fixture generator stays out
    });

    it('images/cpu: cpu-worker.ts loads and the workflow bundle builds from the copied files alone', () => {
      const dir = path.join(scratch, 'cpu');
      layOut(dockerfile('cpu'), dir, '/app');
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const probe = `require('./workers/cpu-worker.ts');
require('@temporalio/worker').bundleWorkflowCode({ workflowsPath: require.resolve('./workflows/index.ts'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } })
  .then((b) => console.log('bundle', b.code.length));`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--eval', probe], { cwd: dir, encoding: 'utf8', env: offline });
      expect(out).toMatch(/^bundle \d+/m);
    }, 120_000);

    it('images/cpu: the codec server (deploy/components/codec-server\'s command) starts from the copied files alone', () => {
      const dir = path.join(scratch, 'cpu-codec-server');
      layOut(dockerfile('cpu'), dir, '/app');
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'cli/codec-server-command.ts', '--help'], { cwd: dir, encoding: 'utf8', env: offline });
      expect(out).toMatch(/^Usage: codec-server .*\n[\s\S]*--auth <mode>/);
    });
  });
});
