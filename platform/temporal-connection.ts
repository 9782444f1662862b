// platform/: plumbing that cli, workers and activities share; it imports only contracts/ and security/.
// How every TypeScript process here connects to Temporal: by Temporal's own conventions
// (@temporalio/envconfig), as the `temporal` CLI and the Python workers do. In order of precedence:
//   1. flags: --address, --namespace (and --profile, which picks the profile below);
//   2. TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_GRPC_META_*;
//   3. the profile (--profile, else TEMPORAL_PROFILE, else "default") of the TOML file named by
//      TEMPORAL_CONFIG_FILE, else of ~/.config/temporalio/temporal.toml;
//   4. 127.0.0.1:7233, namespace "default": the dev server `hala up` starts.
// An API key turns TLS on; `[profile.x.tls]` or TEMPORAL_TLS*=… configure it.
import { existsSync, writeFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { clientConfigToToml, loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { dataConverterFromEnv } from '../security/data-converter';

// 127.0.0.1, not localhost: the dev server binds IPv4 loopback only, and localhost may resolve to ::1 first.
export const localDefaults = { address: '127.0.0.1:7233', namespace: 'default' } as const;

/** What a command line may say about the connection; anything unset comes from the environment. */
export interface ConnectionFlags {
  profile?: string;
  address?: string;
  namespace?: string;
}

export interface TemporalConnection {
  address: string;
  namespace: string;
  /** For Connection.connect and NativeConnection.connect: address, TLS, API key, gRPC metadata. */
  connectionOptions: NativeConnectionOptions & { address: string };
  /**
   * True when a flag, a variable or a profile named the address: `hala up` then uses that cluster
   * instead of starting its own dev server.
   */
  addressConfigured: boolean;
  /** The flags it was resolved with, handed on to child processes so that they resolve the same. */
  flags: ConnectionFlags;
  /** One line for logs and errors: where it connects and where that came from. */
  describe: string;
}

type Env = NodeJS.ProcessEnv;

export function resolveConnection(flags: ConnectionFlags = {}, env: Env = process.env): TemporalConnection {
  const file = env.TEMPORAL_CONFIG_FILE;
  // envconfig treats a missing file as "no file": a typo in the path would silently mean localhost.
  if (file && !existsSync(file)) throw new Error(`TEMPORAL_CONFIG_FILE names ${file}, which does not exist`);
  const profileName = flags.profile ?? env.TEMPORAL_PROFILE;
  const fileName = file ?? 'the default profile file (~/.config/temporalio/temporal.toml)';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ profile: flags.profile, overrideEnvVars: definedOnly(env) });
  } catch (err) {
    throw new Error(`cannot read the Temporal connection profile${profileName ? ` '${profileName}'` : ''} from ${fileName}: ${(err as Error).message}`, { cause: err });
  }
  const addressOrigin = flags.address
    ? '--address'
    : env.TEMPORAL_ADDRESS
      ? 'TEMPORAL_ADDRESS'
      : profile.address
        ? `profile '${profileName ?? 'default'}' of ${fileName}`
        : undefined;
  const { connectionOptions, namespace } = toClientOptions({
    ...profile,
    address: flags.address ?? profile.address ?? localDefaults.address,
    namespace: flags.namespace ?? profile.namespace ?? localDefaults.namespace,
  });
  const address = connectionOptions.address!;
  const resolvedNamespace = namespace!;
  const secure = connectionOptions.tls ? ', TLS' : '';
  return {
    address,
    namespace: resolvedNamespace,
    connectionOptions: { ...connectionOptions, address },
    addressConfigured: addressOrigin !== undefined,
    flags,
    describe: `${address} namespace ${resolvedNamespace}${secure} (${addressOrigin ? `from ${addressOrigin}` : 'nothing configured: the local dev server'})`,
  };
}

/** A connection for the workflow and operator services; an unreachable server is named in the error. */
export async function openConnection(connection: TemporalConnection): Promise<Connection> {
  try {
    return await Connection.connect(connection.connectionOptions);
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${connection.describe}: ${(err as Error).message}`, { cause: err });
  }
}

/** A client for workflows (start, query, describe, list) in the connection's namespace. */
export async function connectClient(connection: TemporalConnection): Promise<Client> {
  return new Client({
    connection: await openConnection(connection),
    namespace: connection.namespace,
    // Encrypts payloads (rows, configs) in history when HALA_CODEC_KEY is set.
    dataConverter: dataConverterFromEnv(),
  });
}

/**
 * The environment of a child process (a worker) that must connect as `flags` on top of `env` do:
 * the flags become the TEMPORAL_* variables they stand for, which the child's envconfig reads with
 * the same precedence.
 */
export function envWithFlags(env: Env, flags: ConnectionFlags): Env {
  return {
    ...env,
    ...(flags.profile ? { TEMPORAL_PROFILE: flags.profile } : {}),
    ...(flags.address ? { TEMPORAL_ADDRESS: flags.address } : {}),
    ...(flags.namespace ? { TEMPORAL_NAMESPACE: flags.namespace } : {}),
  };
}

/** The variables envconfig reads a connection from (TEMPORAL_CODEC_* and the rest are not). */
const connectionVariable = /^TEMPORAL_(CONFIG_FILE|PROFILE|ADDRESS|NAMESPACE|API_KEY|TLS|GRPC_META_)/;

/** A profile file naming one server, as the local stack writes it for its dev server. */
export function writeProfileFile(file: string, profile: { address: string; namespace: string }): void {
  writeFileSync(file, clientConfigToToml({ profiles: { default: profile } }));
}

/**
 * The environment that points a child at the profile file and at nothing else: no TEMPORAL_*
 * variable of the shell, nor the user's default profile file, can send a worker of the local stack
 * elsewhere. `temporal` commands read it too: `TEMPORAL_CONFIG_FILE=.hala/temporal.toml temporal workflow list`.
 */
export function envForProfileFile(env: Env, file: string): Env {
  const kept = Object.entries(env).filter(([name]) => !connectionVariable.test(name));
  return { ...Object.fromEntries(kept), TEMPORAL_CONFIG_FILE: file };
}

function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
