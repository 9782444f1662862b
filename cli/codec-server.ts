// A codec server so operators who hold the key can read encrypted payloads in the Temporal UI
// (the verb is `hala codec-server`, cli/codec-server-command.ts; this is its HTTP side):
//   HALA_CODEC_KEY_FILE=... npx hala codec-server --port 8888 [--cors-origin http://localhost:8233]
// then in the UI: Settings -> Data Encoder -> http://127.0.0.1:8888 (the browser calls it directly).
// Protocol (Temporal's remote codec): POST /encode and /decode, body {payloads: [{metadata, data}]}
// with base64 values, X-Namespace header; one keyring serves every namespace. Without auth it
// listens on loopback only: anyone who can reach it can decrypt. With auth (security/codec-auth.ts)
// each call needs a token granting its namespace, and every call is audited (security/codec-audit.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodecKeyring } from '../security/codec-key';
import { type AuditEntry, type AuditLog, type AuditOutcome, openAuditLog } from '../security/codec-audit';
import { checkBind, type CodecAuth, CodecAccessDenied, codecGuard } from '../security/codec-auth';
import { EncryptionCodec } from '../security/payload-codec';
import { payloadsFromJsonBody, payloadToJson } from '../security/payload-json';

export interface CodecServerOptions {
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  keys: CodecKeyring;
  /** The Temporal UI's origin, allowed by CORS: the browser, not the UI server, calls this server. */
  corsOrigin: string;
  host?: string;
  /** Who may call; without it anyone may, so `host` must be loopback. */
  auth?: CodecAuth;
  /** Where each call's audit line goes (default stderr); the caller closes it. */
  audit?: AuditLog;
}

export interface CodecServer {
  port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024; // above Temporal's 2 MiB payload limit, for whole histories

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** What one /encode or /decode call gets back, and how the audit line records it. */
interface Answer {
  status: number;
  outcome: AuditOutcome;
  body: string;
  type?: string;
  headers?: Record<string, string>;
}

const denied = (err: CodecAccessDenied): Answer => ({
  status: err.status,
  outcome: err.code,
  body: JSON.stringify({ error: err.code, message: err.message }),
  type: 'application/json',
  headers: err.context.challenge ? { 'WWW-Authenticate': err.context.challenge } : undefined,
});

export async function startCodecServer({ port, keys, corsOrigin, host = '127.0.0.1', auth, audit = openAuditLog() }: CodecServerOptions): Promise<CodecServer> {
  checkBind(host, auth);
  const codec = new EncryptionCodec(keys);
  const guard = codecGuard(auth);
  const cors = {
    'Access-Control-Allow-Origin': corsOrigin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
    Vary: 'Origin',
  };
  const reply = (res: http.ServerResponse, status: number, body: string, type = 'text/plain', headers: Record<string, string> = {}): void => {
    res.writeHead(status, { ...cors, ...headers, 'Content-Type': type }).end(body);
  };

  /** The token first, before the body is read: a caller without one gets nothing decoded, nor parsed. */
  async function answer(req: http.IncomingMessage, route: '/encode' | '/decode', entry: AuditEntry): Promise<Answer> {
    try {
      entry.sub = (await guard(req.headers.authorization, entry.namespace ?? undefined, route === '/encode' ? 'write' : 'read')).sub;
    } catch (err) {
      if (!(err instanceof CodecAccessDenied)) throw err;
      entry.sub = err.context.sub ?? null;
      return denied(err);
    }
    let payloads;
    try {
      payloads = payloadsFromJsonBody(JSON.parse(await readBody(req)));
    } catch (err) {
      const message = err instanceof SyntaxError ? `request body is not JSON: ${err.message}` : (err as Error).message;
      return { status: 400, outcome: 'bad_request', body: message };
    }
    entry.payloads = payloads.length;
    try {
      const out = route === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      return { status: 200, outcome: 'ok', body: JSON.stringify({ payloads: out.map(payloadToJson) }), type: 'application/json' };
    } catch (err) {
      // Unknown key id or a tampered payload: the message says which key to load.
      return { status: 400, outcome: 'codec_error', body: (err as Error).message };
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The browser's preflight carries no credentials, so it must pass without a token.
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Access-Control-Max-Age': '600' }).end();
      return;
    }
    const route = new URL(req.url ?? '/', 'http://codec').pathname;
    // For the kubelet's probes: says only that the process answers.
    if (route === '/healthz' && req.method === 'GET') return reply(res, 200, 'ok');
    if (route !== '/encode' && route !== '/decode') return reply(res, 404, `no route ${route}; use POST /encode or POST /decode`);
    if (req.method !== 'POST') return reply(res, 405, `${route} takes POST`);
    const namespace = req.headers['x-namespace'];
    const entry: AuditEntry = { sub: null, namespace: typeof namespace === 'string' ? namespace : null, endpoint: route, payloads: null, outcome: 'error', status: 500 };
    try {
      const a = await answer(req, route, entry);
      audit.record({ ...entry, outcome: a.outcome, status: a.status });
      reply(res, a.status, a.body, a.type, a.headers);
    } catch (err) {
      audit.record(entry);
      throw err;
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, (err as Error).message));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((done, fail) => server.close((e) => (e ? fail(e) : done()))),
    }));
  });
}
