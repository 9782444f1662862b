// `hala codec-server`: its flags, read into startCodecServer's options (cli/codec-server.ts), and the
// process around the server. Also the container's entry point (deploy/components/codec-server):
//   node --import tsx cli/codec-server-command.ts --host 0.0.0.0 --auth jwks --jwks-url https://…
// Refusals (bad flags, no key, an open bind without --auth) exit 2 before anything listens.
import { Command, Option } from 'commander';
import { type AuditLog, openAuditLog } from '../security/codec-audit';
import { checkBind, CodecAuthConfigError, codecAuthFromFlags } from '../security/codec-auth';
import { CodecKeyError, loadCodecKeys } from '../security/codec-key';
import { type CodecServerOptions, startCodecServer } from './codec-server';
import { ExitCode } from './conventions';

export interface CodecServerFlags {
  port: string;
  host: string;
  corsOrigin: string;
  auth?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  namespacesClaim: string;
  auditLog?: string;
}

export type CodecServerSettings = Omit<CodecServerOptions, 'audit'> & { host: string; auditLog?: string };

/** The flags and environment as the server's options, or a CodecAuthConfigError / CodecKeyError naming what to fix. */
export function codecServerSettings(flags: CodecServerFlags, env: NodeJS.ProcessEnv = process.env): CodecServerSettings {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CodecAuthConfigError(`--port must be an integer 0-65535 (got ${flags.port})`);
  const auth = codecAuthFromFlags(flags, env);
  checkBind(flags.host, auth);
  const keys = loadCodecKeys(env);
  if (!keys) throw new CodecKeyError('no key configured; set HALA_CODEC_KEY (base64 of 32 bytes) or HALA_CODEC_KEY_FILE');
  return { port, host: flags.host, corsOrigin: flags.corsOrigin, auth, keys, auditLog: flags.auditLog };
}

async function serve(flags: CodecServerFlags, cmd: Command): Promise<void> {
  const refuse = (message: string): never => cmd.error(`codec-server: ${message}`, { exitCode: ExitCode.refused, code: 'hala.refused' });
  let settings: CodecServerSettings;
  let audit: AuditLog;
  try {
    settings = codecServerSettings(flags);
    audit = openAuditLog(settings.auditLog);
  } catch (err) {
    if (err instanceof CodecAuthConfigError || err instanceof CodecKeyError) return refuse(err.message);
    const code = (err as NodeJS.ErrnoException).code;
    if (code) return refuse(`--audit-log ${flags.auditLog} cannot be opened for appending (${code})`);
    throw err;
  }
  const server = await startCodecServer({ ...settings, audit });
  const { auth } = settings;
  const checks = !auth ? 'no auth (loopback only)' : auth.mode === 'jwks' ? `tokens from ${auth.jwksUrl}` : 'HS256 tokens (HALA_CODEC_AUTH_SECRET)';
  console.log(`codec-server: http://${settings.host}:${server.port}, the codec endpoint for the Temporal UI (key ids ${[...settings.keys.byId.keys()].join(', ')}; CORS for ${settings.corsOrigin}; ` +
    `${checks}; audit to ${settings.auditLog ?? 'stderr'})`);
  // As a container's PID 1, node ignores SIGTERM unless it handles it: the pod would wait out its grace period.
  const stop = () => void server.close().then(() => audit.close()).finally(() => process.exit(ExitCode.ok));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export function codecServerCommand(uiUrl: string = process.env.HALA_UI_URL ?? 'http://localhost:8233'): Command {
  return new Command('codec-server')
    .description('serve the payload codec to the Temporal UI (keys: HALA_CODEC_KEY or HALA_CODEC_KEY_FILE, old ones in HALA_CODEC_KEYS)')
    .option('--port <port>', 'port to listen on', '8888')
    .option('--host <host>', 'interface to listen on; other than loopback only with --auth', '127.0.0.1')
    .option('--cors-origin <url>', 'origin of the Temporal UI, whose browser page calls this server', uiUrl)
    .addOption(new Option('--auth <mode>', 'check each caller\'s bearer token: jwks (an identity provider\'s keys) or shared-secret (HS256, secret in HALA_CODEC_AUTH_SECRET)')
      .choices(['jwks', 'shared-secret']))
    .option('--jwks-url <url>', 'with --auth jwks: the identity provider\'s JSON Web Key Set (https)')
    .option('--issuer <iss>', 'with --auth: the iss every token must carry')
    .option('--audience <aud>', 'with --auth: an aud every token must carry')
    .option('--namespaces-claim <claim>', 'with --auth: the claim listing the caller\'s namespaces, as "<ns>:read|write|admin" (a plain name grants read)', 'permissions')
    .option('--audit-log <file>', 'append the audit lines (one JSON line per call) to this file instead of stderr')
    .action(serve);
}

if (require.main === module) {
  codecServerCommand().parseAsync().catch((err: unknown) => {
    console.error(`codec-server: ${(err as Error).message}`);
    process.exit(ExitCode.failed);
  });
}
