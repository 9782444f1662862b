// Reads the fields of a deploy/ Deployment (as an overlay renders it) that the tests check: its role,
// queue flags, env, GPUs.
/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML, checked field by field by the tests */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any; data?: any };

interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }

export function readDeployment(doc: Manifest) {
  const pod = doc.spec.template.spec;
  const container = pod.containers[0];
  const env: EnvVar[] = container.env ?? [];
  const args: string[] = container.args ?? [];
  return {
    name: doc.metadata.name,
    /** The queue role it serves: its worker's --queue-role (the CPU worker has none). */
    role: (args.includes('--queue-role') ? args[args.indexOf('--queue-role') + 1] : 'cpu') as string,
    spec: doc.spec,
    pod,
    image: container.image as string,
    gpus: Number(container.resources?.limits?.['nvidia.com/gpu'] ?? 0),
    /** The ConfigMaps it takes whole (envFrom). */
    configMaps: ((container.envFrom ?? []) as { configMapRef?: { name: string } }[]).flatMap((e) => (e.configMapRef ? [e.configMapRef.name] : [])),
    /** The value after `flag` in the container's args. */
    arg: (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined),
    env: (name: string) => env.find((e) => e.name === name)?.value,
    secretEnv: (name: string) => {
      const ref = env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
      return ref && { name: ref.name, key: ref.key };
    },
    /** The whole secretKeyRef of `name` (with `optional`), if any. */
    secretRef: (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef,
    /** The volume mounted at $HOME, where every cache and the runners' work lives. */
    scratch: () => {
      const home = env.find((e) => e.name === 'HOME')?.value;
      const mount = (container.volumeMounts ?? []).find((m: any) => m.mountPath === home);
      return pod.volumes.find((v: any) => v.name === mount?.name)?.emptyDir as { sizeLimit: string };
    },
    /** The Secret mounted at `dir`, if any. */
    secretVolumeAt: (dir: string) => {
      const mount = (container.volumeMounts ?? []).find((m: any) => m.mountPath === dir);
      return pod.volumes.find((v: any) => v.name === mount?.name)?.secret?.secretName as string | undefined;
    },
  };
}
