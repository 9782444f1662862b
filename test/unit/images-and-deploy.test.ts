// What ships beyond this machine, checked offline: every Dockerfile (checkov, hadolint), every image
// lock, what each image copies, and every manifest of deploy/ (Kubernetes schemas, the KEDA schema),
// down to the queues the Deployments serve being the contract's.
// Run: npx vitest run test/unit/images-and-deploy.test.ts  (validators: $HALA_TOOLS_PYTHON, which
// scripts/test-all.sh exports, else scripts/tools-env.sh; the runner venv: $HALA_PYTHON, else scripts/python-env.sh)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadRecipe } from '../../cli/recipe-file';
import { classOf } from '../../contracts/placement';
import { DefaultQueues, type QueueRole } from '../../contracts/queues';
import { ROUTES, type Route } from '../../contracts/resources';
import { CODE_VERSION } from '../../contracts/version';
import { readDeployment, type Manifest } from '../support/deploy-manifests';

const root = path.resolve(__dirname, '../..');
const KUBERNETES = '1.33.0'; // the oldest release deploy/README.md supports
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
/** A Kubernetes quantity in bytes: 300Gi, 1Ti, 500G. */
const bytes = (q: string) => {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]i?)?$/.exec(q)!;
  const unit = m[2] ?? '';
  return Number(m[1]) * (unit.endsWith('i') ? 1024 ** ('KMGTP'.indexOf(unit[0]!) + 1) : unit ? 1000 ** ('KMGTP'.indexOf(unit) + 1) : 1);
};
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
  });
});

describe('deploy/', () => {
  type Checked = { file: string; index: number; kind: string; name: string | null; errors: string[] };
  const files = readdirSync(path.join(root, 'deploy')).filter((f) => f.endsWith('.yaml')).map((f) => `deploy/${f}`);
  const { out } = run(venvPython('HALA_TOOLS_PYTHON', 'tools-env.sh'), ['test/support/validate-manifests.py', '--kubernetes', KUBERNETES, ...files]);
  const checked: Checked[] = out.trim().split('\n').map((line) => JSON.parse(line));
  const docs: Manifest[] = files.flatMap((f) => parseAllDocuments(readFileSync(path.join(root, f), 'utf8')).map((d) => d.toJS()));
  const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployments = ofKind('Deployment').map(readDeployment);
  const scaledObjects = ofKind('ScaledObject');
  const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'hala-config')!;

  it('every YAML document was validated', () => {
    expect(checked.length).toBe(docs.length);
  });

  it.each(checked.map((c) => [`${c.file} ${c.kind}/${c.name ?? ''}`, c] as const))(
    `%s is valid against the Kubernetes ${KUBERNETES} schemas (strict) or the KEDA schema`,
    (_label, c) => expect(c.errors).toEqual([]),
  );

  it('has one Deployment per queue of the contract, serving that queue under its role', () => {
    for (const [role, queue] of Object.entries(DefaultQueues) as [QueueRole, string][]) {
      const d = deployments.find((x) => x.arg('--task-queue') === queue)!;
      expect(d.role, d.name).toBe(role);
      if (role !== 'cpu') expect(d.arg('--queue-role'), d.name).toBe(role);
      expect(d.image).toBe(role === 'cpu' ? `hala/cpu:${CODE_VERSION}` : `hala/gpu-${role}:${CODE_VERSION}`);
    }
  });

  it('has a Deployment for every resource class of the paper recipe, serving its queue under the role of its routes, with its GPUs', () => {
    const paper = loadRecipe(path.join(root, 'recipes/hala-paper.yaml'));
    if (!paper.ok) throw new Error(paper.problems.join('\n'));
    const { resources } = paper.recipe;
    expect(Object.keys(resources.classes).length).toBeGreaterThan(0);
    for (const [route, { role }] of Object.entries(ROUTES) as [Route, (typeof ROUTES)[Route]][]) {
      const pool = classOf(resources, route);
      if (!pool) continue;
      const d = deployments.find((x) => x.arg('--task-queue') === pool.queue);
      expect(d, `a Deployment serving ${pool.queue} (resources.${route})`).toBeDefined();
      expect(d!.role, `${d!.name} serves resources.${route}`).toBe(role);
      expect(d!.gpus, `${d!.name} has the GPUs of class ${resources[route]}`).toBe(pool.gpus);
    }
  });

  it.each(deployments.map((d) => d.arg('--task-queue')!).filter((q) => q))('%s is scaled by a ScaledObject on that queue, in hala-config\'s namespace', (queue) => {
    const d = deployments.find((x) => x.arg('--task-queue') === queue)!;
    const [so, ...others] = scaledObjects.filter((s) => s.spec.scaleTargetRef.name === d.name);
    expect(others).toEqual([]);
    const temporal = so!.spec.triggers.filter((t: { type: string }) => t.type === 'temporal');
    expect(temporal.map((t: { metadata: Record<string, string> }) => t.metadata.taskQueue)).toEqual([queue]);
    expect(temporal[0].metadata.namespace).toBe(config.data.TEMPORAL_NAMESPACE);
    expect(temporal[0].metadata.endpointFromEnv).toBe('TEMPORAL_ADDRESS');
  });

  it.each(deployments.filter((d) => d.role !== 'cpu').map((d) => [d.name, d] as const))(
    '%s: a GPU pool at zero that only its backlog wakes, and that a running stage holds',
    (_name, d) => {
      expect(d.gpus).toBeGreaterThanOrEqual(1);
      expect(d.pod.tolerations.some((t: { key: string }) => t.key === 'nvidia.com/gpu')).toBe(true);
      expect(d.pod.nodeSelector['hala.dev/pool']).toBe(d.name);
      const so = scaledObjects.find((s) => s.spec.scaleTargetRef.name === d.name)!;
      expect(so.spec.minReplicaCount).toBe(0);
      const byType = Object.fromEntries(so.spec.triggers.map((t: { type: string }) => [t.type, t]));
      expect(Object.keys(byType).sort()).toEqual(['prometheus', 'temporal']);
      expect(byType.temporal.metadata).toMatchObject({ queueTypes: 'activity', activationTargetQueueSize: '0' });
      // The busy trigger counts only workers' taken tasks: with no pod it has no series, so it never wakes one.
      expect(byType.prometheus.metadata.query).toBe(
        `sum(temporal_worker_task_slots_used{task_queue="${d.arg('--task-queue')}",worker_type="ActivityWorker"})`);
      expect(d.env('HALA_METRICS_BIND') ?? config.data.HALA_METRICS_BIND).toMatch(/:9464$/);
    },
  );

  it.each(deployments.filter((d) => d.role !== 'cpu').map((d) => [d.name, d] as const))(
    '%s: the runner\'s checkpoint grace < the SDK\'s graceful shutdown < the pod\'s termination grace',
    (_name, d) => {
      const kill = Number(d.env('HALA_KILL_GRACE_S'));
      const graceful = Number(d.arg('--graceful-shutdown-s'));
      expect(kill).toBeGreaterThan(0);
      expect(graceful).toBeGreaterThan(kill);
      expect(d.pod.terminationGracePeriodSeconds).toBeGreaterThan(graceful);
    },
  );

  it('the CPU worker asks for no GPU and never scales to zero', () => {
    const cpu = deployments.find((d) => d.role === 'cpu')!;
    expect(cpu.gpus).toBe(0);
    expect(scaledObjects.find((s) => s.spec.scaleTargetRef.name === cpu.name)!.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });

  it('no Deployment that a ScaledObject scales sets replicas (an apply would reset the pool KEDA sized)', () => {
    const scaled = new Set(scaledObjects.map((s) => s.spec.scaleTargetRef.name));
    expect(deployments.filter((d) => scaled.has(d.name) && 'replicas' in d.spec).map((d) => d.name)).toEqual([]);
  });

  it.each(deployments.map((d) => [d.name, d] as const))('%s: a Hugging Face token for gated repos, from the optional Secret hala-hf', (_name, d) => {
    // Every worker reaches the hub: the Python workers download hf:// sources, the CPU worker pins their revisions.
    expect(d.secretRef('HF_TOKEN')).toEqual({ name: 'hala-hf', key: 'token', optional: true });
  });

  it('the teacher\'s pool has scratch for the FP8-vs-BF16 check: both teachers on one pod, as its comment sums them', () => {
    const paper = loadRecipe(path.join(root, 'recipes/hala-paper.yaml'));
    if (!paper.ok) throw new Error(paper.problems.join('\n'));
    const queue = classOf(paper.recipe.resources, 'teacher')!.queue;
    const d = deployments.find((x) => x.arg('--task-queue') === queue)!;
    const file = files.find((f) => readFileSync(path.join(root, f), 'utf8').includes(`name: ${d.name}\n`))!;
    const sum = /scratch: (.+?) = (\d+) GB/s.exec(readFileSync(path.join(root, file), 'utf8').replace(/\n\s*#\s*/g, ' '));
    expect(sum, `${file}: a comment "scratch: A GB ... + B GB ... = N GB"`).not.toBeNull();
    const total = Number(sum![2]);
    expect([...sum![1].matchAll(/(\d+) GB/g)].reduce((a, m) => a + Number(m[1]), 0)).toBe(total);
    // At least the BF16 teacher (2 bytes a parameter) and the FP8 one (1 byte) that the check loads.
    const teacherB = paper.recipe.estimates!.params_b![paper.recipe.inputs.teacher]!;
    expect(total).toBeGreaterThanOrEqual(teacherB * 3);
    expect(bytes(d.scratch().sizeLimit)).toBeGreaterThanOrEqual(total * 1e9);
    expect(bytes(d.pod.containers[0].resources.requests['ephemeral-storage'])).toBeGreaterThanOrEqual(total * 1e9);
  });

  it.each(deployments.map((d) => [d.name, d] as const))('%s: keys and credentials come from Secrets, never from the manifests', (_name, d) => {
    expect(d.secretEnv('TEMPORAL_API_KEY')).toEqual({ name: 'hala-temporal', key: 'api-key' });
    expect(d.secretEnv('AWS_ACCESS_KEY_ID')).toEqual({ name: 'hala-store', key: 'access-key-id' });
    expect(d.secretEnv('AWS_SECRET_ACCESS_KEY')).toEqual({ name: 'hala-store', key: 'secret-access-key' });
    expect(d.env('HALA_CODEC_KEY')).toBeUndefined();
    const keyFile = d.env('HALA_CODEC_KEY_FILE')!;
    expect(d.secretVolumeAt(path.dirname(keyFile))).toBe('hala-codec');
    expect(Object.keys(config.data).filter((k) => /KEY|SECRET|TOKEN|PASSWORD/.test(k))).toEqual([]);
  });
});
