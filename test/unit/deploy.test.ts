// deploy/ as it is applied: each overlay rendered by kustomize (the one inside kubectl, a binary in the
// validators' venv) and checked offline: the Kubernetes schemas (strict), KEDA's schema, checkov's
// Kubernetes policies, then the contract: a Deployment per queue, scaled by KEDA on that queue, GPU
// pools at zero, credentials from Secrets, and each overlay's Temporal connection and authentication.
// Run: npx vitest run test/unit/deploy.test.ts  (validators: $HALA_TOOLS_PYTHON, which
// scripts/test-all.sh exports, else scripts/tools-env.sh)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { codecServerCommand, type CodecServerFlags, codecServerSettings } from '../../cli/codec-server-command';
import { loadRecipe } from '../../cli/recipe-file';
import { classOf } from '../../contracts/placement';
import { DefaultQueues, type QueueRole } from '../../contracts/queues';
import { ROUTES, type Route } from '../../contracts/resources';
import { CODE_VERSION } from '../../contracts/version';
import { readDeployment, type Manifest } from '../support/deploy-manifests';

const root = path.resolve(__dirname, '../..');
const KUBERNETES = '1.33.0'; // the oldest release deploy/README.md supports
const python = process.env.HALA_TOOLS_PYTHON
  ?? path.join(execFileSync('bash', [path.join(root, 'scripts/tools-env.sh')], { encoding: 'utf8' }).trim(), 'bin/python');
const bin = (tool: string) => path.join(path.dirname(python), tool);
// Validators run with no credentials, and any attempt to reach the network fails at once.
const offline = { ...process.env, BC_API_KEY: '', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
const run = (cmd: string, args: string[]) => {
  try {
    return { code: 0, out: execFileSync(cmd, args, { cwd: root, env: offline, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
};
/** A Kubernetes quantity in bytes: 300Gi, 1Ti, 500G. */
const bytes = (q: string) => {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]i?)?$/.exec(q)!;
  const unit = m[2] ?? '';
  return Number(m[1]) * (unit.endsWith('i') ? 1024 ** ('KMGTP'.indexOf(unit[0]!) + 1) : unit ? 1000 ** ('KMGTP'.indexOf(unit) + 1) : 1);
};

// checkov's Kubernetes checks this design fails on purpose, and why. Every other check must pass.
const CHECKOV_SKIPS: Record<string, string> = {
  CKV_K8S_8: 'no liveness probe: a worker serves no health endpoint, and a probe that killed a GPU worker mid-stage would cost the stage',
  CKV_K8S_9: 'no readiness probe: workers pull tasks from Temporal and sit behind no Service',
  CKV_K8S_11: 'no CPU limit: CPU requests place the pods; a limit would throttle tokenizing and data loading',
  CKV_K8S_15: 'imagePullPolicy IfNotPresent: tags are versions (CODE_VERSION), and GPU images are many GB per pull',
  CKV_K8S_35: 'secrets as environment variables: envconfig, the S3 client and huggingface_hub read them so (the codec key is a file)',
  CKV_K8S_40: 'the CPU image runs as the node base image\'s user, uid 1000, which owns /app (images/cpu/Dockerfile)',
  CKV_K8S_43: 'images by tag: set a digest with the overlay\'s `images:` when you pin one',
  CKV2_K8S_6: 'no NetworkPolicy: Temporal, the S3 store, the hub and Prometheus are the cluster\'s own addresses',
};

const overlays = readdirSync(path.join(root, 'deploy/overlays')).sort();
const scratch = mkdtempSync(path.join(tmpdir(), 'hala-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** Renders the kustomization in `dir` into scratch/<name>.yaml, where the validators and checkov read it. */
const render = (name: string, dir: string) => {
  const { code, out } = run(bin('kubectl'), ['kustomize', dir]);
  writeFileSync(path.join(scratch, `${name}.yaml`), out);
  return { code, out, docs: code === 0 ? parseAllDocuments(out).map((d) => d.toJS() as Manifest) : [] };
};
const rendered = Object.fromEntries(overlays.map((o) => [o, render(o, `deploy/overlays/${o}`)]));
// The optional codec server as deploy/README.md adds it, in an overlay kept out of scratch (checkov's folder).
const codecOverlay = mkdtempSync(path.join(tmpdir(), 'hala-deploy-codec-'));
afterAll(() => rmSync(codecOverlay, { recursive: true, force: true }));
const from = (dir: string) => path.relative(codecOverlay, path.join(root, dir)); // kustomize takes no absolute paths
writeFileSync(path.join(codecOverlay, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: hala\n' +
  `resources: [${from('deploy/overlays/self-hosted')}]\ncomponents: [${from('deploy/components/codec-server')}]\n`);
const withCodec = render('self-hosted+codec-server', codecOverlay);
const kustomizations = ['deploy/base', ...['components', 'overlays'].flatMap((d) => readdirSync(path.join(root, 'deploy', d)).map((x) => `deploy/${d}/${x}`))]
  .map((dir) => `${dir}/kustomization.yaml`);

describe('deploy/ renders and validates', () => {
  type Checked = { file: string; index: number; kind: string; name: string | null; errors: string[] };
  // An overlay that fails to render fails the first test, with kustomize's message, and is left out here.
  const renders: Record<string, typeof withCodec> = { ...rendered, 'self-hosted+codec-server': withCodec };
  const files = [...Object.keys(renders).filter((r) => renders[r]!.code === 0).map((r) => path.join(scratch, `${r}.yaml`)), ...kustomizations];
  const { out } = run(python, ['test/support/validate-manifests.py', '--kubernetes', KUBERNETES, ...files]);
  const checked: Checked[] = out.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));

  it('has a self-hosted and a Temporal Cloud overlay, each rendered by kustomize', () => {
    expect(overlays).toEqual(['cloud', 'self-hosted']);
    for (const o of overlays) expect(rendered[o]!.code, rendered[o]!.out).toBe(0);
    expect(withCodec.code, withCodec.out).toBe(0);
  });

  it('every rendered document and every kustomization was validated', () => {
    expect(checked.length).toBe(Object.values(renders).reduce((n, r) => n + r.docs.length, 0) + kustomizations.length);
  });

  it.each(checked.map((c) => [`${path.relative(scratch, c.file).startsWith('..') ? c.file : `overlay ${c.file.slice(scratch.length + 1)}`} ${c.kind}/${c.name ?? ''}`, c] as const))(
    `%s is valid: the Kubernetes ${KUBERNETES} schemas (strict), the KEDA schema, or a kustomization listing its files`,
    (_label, c) => expect(c.errors).toEqual([]),
  );

  it('the rendered overlays pass checkov\'s Kubernetes checks but the documented skips', () => {
    const { out: report } = run(bin('checkov'), ['-d', scratch, '--framework', 'kubernetes', '--skip-download', '-o', 'json',
      '--skip-check', Object.keys(CHECKOV_SKIPS).join(',')]);
    const { results, summary } = JSON.parse(report);
    expect(summary.parsing_errors).toBe(0);
    expect(results.failed_checks.map((f: { check_id: string; file_path: string; resource: string }) => `${f.check_id} ${f.file_path} ${f.resource}`)).toEqual([]);
    expect(results.passed_checks.length).toBeGreaterThan(100);
  }, 120_000);
});

describe.each(overlays)('deploy/overlays/%s', (overlay) => {
  const docs = rendered[overlay]!.docs;
  const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployments = ofKind('Deployment').map(readDeployment);
  const scaledObjects = ofKind('ScaledObject');
  const configMaps = ofKind('ConfigMap');
  /** What a worker sees from its ConfigMaps: hala-config and the overlay's hala-temporal-connection. */
  const config = { data: Object.assign({}, ...configMaps.map((c) => c.data)) as Record<string, string> };

  it('puts everything in namespace hala', () => {
    expect(docs.filter((d) => d.kind !== 'Namespace').every((d) => (d.metadata as { namespace?: string }).namespace === 'hala')).toBe(true);
  });

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

  it.each(deployments.map((d) => d.arg('--task-queue')!))('%s is scaled by a ScaledObject on that queue, in the connection\'s namespace and endpoint', (queue) => {
    const d = deployments.find((x) => x.arg('--task-queue') === queue)!;
    const [so, ...others] = scaledObjects.filter((s) => s.spec.scaleTargetRef.name === d.name);
    expect(others).toEqual([]);
    const temporal = so!.spec.triggers.filter((t: { type: string }) => t.type === 'temporal');
    expect(temporal.map((t: { metadata: Record<string, string> }) => t.metadata.taskQueue)).toEqual([queue]);
    expect(temporal[0].metadata.namespace).toBe(config.data.TEMPORAL_NAMESPACE);
    // KEDA reads TEMPORAL_ADDRESS from the scale target's environment: its ConfigMaps must hold it.
    expect(temporal[0].metadata.endpointFromEnv).toBe('TEMPORAL_ADDRESS');
    expect(d.configMaps.sort()).toEqual(['hala-config', 'hala-temporal-connection']);
    expect(configMaps.find((c) => c.metadata.name === 'hala-temporal-connection')!.data).toHaveProperty('TEMPORAL_ADDRESS');
  });

  it('no Deployment that a ScaledObject scales sets replicas (an apply would reset the pool KEDA sized)', () => {
    const scaled = new Set(scaledObjects.map((s) => s.spec.scaleTargetRef.name));
    expect(scaled.size).toBe(deployments.length);
    expect(deployments.filter((d) => scaled.has(d.name) && 'replicas' in d.spec).map((d) => d.name)).toEqual([]);
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

  it('the teacher\'s pool has scratch for the FP8-vs-BF16 check: both teachers on one pod, as its comment sums them', () => {
    const paper = loadRecipe(path.join(root, 'recipes/hala-paper.yaml'));
    if (!paper.ok) throw new Error(paper.problems.join('\n'));
    const d = deployments.find((x) => x.arg('--task-queue') === classOf(paper.recipe.resources, 'teacher')!.queue)!;
    // Rendering drops comments: the sum is read from the base file that defines the Deployment.
    const file = readdirSync(path.join(root, 'deploy/base')).map((f) => readFileSync(path.join(root, 'deploy/base', f), 'utf8'))
      .find((text) => text.includes(`  name: ${d.name}\n`))!;
    const sum = /scratch: (.+?) = (\d+) GB/s.exec(file.replace(/\n\s*#\s*/g, ' '));
    expect(sum, `${d.name}: a comment "scratch: A GB ... + B GB ... = N GB"`).not.toBeNull();
    const total = Number(sum![2]);
    expect([...sum![1]!.matchAll(/(\d+) GB/g)].reduce((a, m) => a + Number(m[1]), 0)).toBe(total);
    // At least the BF16 teacher (2 bytes a parameter) and the FP8 one (1 byte) that the check loads.
    const teacherB = paper.recipe.estimates.params_b[paper.recipe.inputs.teacher]!;
    expect(total).toBeGreaterThanOrEqual(teacherB * 3);
    expect(bytes(d.scratch().sizeLimit)).toBeGreaterThanOrEqual(total * 1e9);
    expect(bytes(d.pod.containers[0].resources.requests['ephemeral-storage'])).toBeGreaterThanOrEqual(total * 1e9);
  });

  it.each(deployments.map((d) => [d.name, d] as const))('%s: keys and credentials come from Secrets, never from the manifests', (_name, d) => {
    expect(d.secretEnv('AWS_ACCESS_KEY_ID')).toEqual({ name: 'hala-store', key: 'access-key-id' });
    expect(d.secretEnv('AWS_SECRET_ACCESS_KEY')).toEqual({ name: 'hala-store', key: 'secret-access-key' });
    // Every worker reaches the hub (gated repos: the paper's teacher): the Python workers download
    // hf:// sources, the CPU worker pins their revisions. Optional: public repos need no token.
    expect(d.secretRef('HF_TOKEN')).toEqual({ name: 'hala-hf', key: 'token', optional: true });
    expect(d.env('HALA_CODEC_KEY')).toBeUndefined();
    const keyFile = d.env('HALA_CODEC_KEY_FILE')!;
    expect(d.secretVolumeAt(path.dirname(keyFile))).toBe('hala-codec');
    expect(Object.keys(config.data).filter((k) => /KEY|SECRET|TOKEN|PASSWORD/.test(k))).toEqual([]);
  });

  const temporalTriggers = scaledObjects.flatMap((s) => s.spec.triggers.filter((t: { type: string }) => t.type === 'temporal'));
  const auths = ofKind('TriggerAuthentication');
  if (overlay === 'cloud') {
    it('Temporal Cloud: every worker and every backlog trigger use the API key of Secret hala-temporal (TLS)', () => {
      expect(config.data.TEMPORAL_ADDRESS).toMatch(/\.(api\.temporal\.io|tmprl\.cloud):7233$/);
      expect(config.data.TEMPORAL_NAMESPACE).toMatch(/^[a-z0-9-]+\.[a-z0-9]+$/); // <name>.<account id>
      expect(auths.map((a) => [a.metadata.name, a.spec])).toEqual([
        ['hala-temporal', { secretTargetRef: [{ parameter: 'apiKey', name: 'hala-temporal', key: 'api-key' }] }]]);
      expect(temporalTriggers.map((t: { authenticationRef?: { name: string } }) => t.authenticationRef?.name)).toEqual(scaledObjects.map(() => 'hala-temporal'));
      // Required: without it Cloud refuses the connection, so the pod should not start.
      for (const d of deployments) expect(d.secretRef('TEMPORAL_API_KEY'), d.name).toEqual({ name: 'hala-temporal', key: 'api-key' });
    });
  } else {
    it('self-hosted: no API key anywhere, so neither the workers nor KEDA dial TLS to the in-cluster frontend', () => {
      expect(config.data.TEMPORAL_ADDRESS).toMatch(/\.svc\.cluster\.local:7233$/);
      expect(auths).toEqual([]);
      expect(temporalTriggers.filter((t: { authenticationRef?: unknown }) => t.authenticationRef)).toEqual([]);
      expect(deployments.filter((d) => d.secretRef('TEMPORAL_API_KEY')).map((d) => d.name)).toEqual([]);
    });
  }
});

describe('deploy/components/codec-server, added to the self-hosted overlay', () => {
  const base = rendered['self-hosted']!.docs;
  const added = withCodec.docs.filter((d) => !base.some((b) => b.kind === d.kind && b.metadata.name === d.metadata.name));
  const [config, deployment, service] = ['ConfigMap', 'Deployment', 'Service'].map((k) => added.find((d) => d.kind === k)!);
  const d = readDeployment(deployment!), container = d.pod.containers[0];

  it('adds its ConfigMap, Deployment and Service in namespace hala, and changes nothing else', () => {
    expect(added.map((x) => `${x.kind}/${x.metadata.name}`).sort()).toEqual(['ConfigMap/hala-codec-server', 'Deployment/hala-codec-server', 'Service/hala-codec-server']);
    expect(added.every((x) => (x.metadata as { namespace?: string }).namespace === 'hala')).toBe(true);
    expect(withCodec.docs.filter((x) => !added.includes(x))).toEqual(base);
  });

  it('runs `hala codec-server` from the CPU worker\'s image, on all interfaces, with args the verb accepts: jwks mode', () => {
    expect(d.image).toBe(readDeployment(base.find((x) => x.metadata.name === 'hala-cpu')!).image);
    expect(container.command).toEqual(['node', '--import', 'tsx', 'cli/codec-server-command.ts']);
    expect(readFileSync(path.join(root, 'images/cpu/Dockerfile'), 'utf8')).toContain('COPY cli/codec-server-command.ts ./cli/');
    // The args as the kubelet expands them from the ConfigMap, read by the verb's own parser.
    const args = (container.args as string[]).map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => config!.data[v]));
    const flags = codecServerCommand().action(() => undefined).parse(args, { from: 'user' }).opts<CodecServerFlags>();
    const settings = codecServerSettings(flags, { HALA_CODEC_KEY: Buffer.alloc(32).toString('base64') });
    expect(settings).toMatchObject({ host: '0.0.0.0', corsOrigin: config!.data.HALA_CODEC_CORS_ORIGIN, auth: { mode: 'jwks', jwksUrl: config!.data.HALA_CODEC_JWKS_URL,
      issuer: config!.data.HALA_CODEC_ISSUER, audience: config!.data.HALA_CODEC_AUDIENCE, namespacesClaim: 'permissions' } });
    expect(container.ports).toEqual([{ name: 'http', containerPort: settings.port }]);
  });

  it('takes the codec key from Secret hala-codec as a file and the shared secret from Secret hala-codec-auth, never from the manifests', () => {
    expect(d.env('HALA_CODEC_KEY')).toBeUndefined();
    expect(d.secretVolumeAt(path.dirname(d.env('HALA_CODEC_KEY_FILE')!))).toBe('hala-codec');
    expect(d.secretRef('HALA_CODEC_AUTH_SECRET')).toEqual({ name: 'hala-codec-auth', key: 'secret', optional: true });
    expect(Object.keys(config!.data).filter((k) => /KEY|SECRET|TOKEN|PASSWORD/.test(k))).toEqual([]);
  });

  it('is probed on /healthz (no token needed), runs as non-root on a read-only root, and its Service reaches that port', () => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) expect(probe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(d.pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(service!.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(service!.spec.ports).toEqual([{ name: 'http', port: 8888, targetPort: 'http' }]);
  });
});

it('the overlays differ only in the Temporal connection and its credentials', () => {
  const strip = (docs: Manifest[]) => JSON.parse(
    JSON.stringify(docs.filter((d) => d.kind !== 'TriggerAuthentication' && d.metadata.name !== 'hala-temporal-connection')),
    function (this: Record<string, unknown>, key: string, value: unknown) {
      if (key === 'authenticationRef' || (key === 'namespace' && 'taskQueue' in this)) return undefined; // a trigger's
      return Array.isArray(value) ? value.filter((e) => (e as { name?: string } | null)?.name !== 'TEMPORAL_API_KEY') : value;
    });
  expect(strip(rendered['cloud']!.docs)).toEqual(strip(rendered['self-hosted']!.docs));
});
