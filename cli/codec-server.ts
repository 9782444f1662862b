#!/usr/bin/env -S npx tsx
// A codec server so operators who hold the key can read encrypted payloads in the Temporal UI:
//   HALA_CODEC_KEY=... npx tsx cli/codec-server.ts --port 8888 [--cors-origin http://localhost:8233]
// then in the UI: Settings -> Data Encoder -> http://127.0.0.1:8888 (the browser calls it directly).
// Protocol (Temporal's remote codec): POST /encode and /decode, body {payloads: [{metadata, data}]}
// with base64 values, X-Namespace header; one keyring serves every namespace. It listens on loopback
// by default: anyone who can reach it can decrypt.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { CodecKeyError, type CodecKeyring, loadCodecKeys } from '../security/codec-key';
import { EncryptionCodec } from '../security/payload-codec';
import { payloadsFromJsonBody, payloadToJson } from '../security/payload-json';

export interface CodecServerOptions {
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  keys: CodecKeyring;
  /** The Temporal UI's origin, allowed by CORS: the browser, not the UI server, calls this server. */
  corsOrigin: string;
  host?: string;
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

export function startCodecServer({ port, keys, corsOrigin, host = '127.0.0.1' }: CodecServerOptions): Promise<CodecServer> {
  const codec = new EncryptionCodec(keys);
  const cors = {
    'Access-Control-Allow-Origin': corsOrigin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
    Vary: 'Origin',
  };
  const reply = (res: http.ServerResponse, status: number, body: string, type = 'text/plain'): void => {
    res.writeHead(status, { ...cors, 'Content-Type': type }).end(body);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Access-Control-Max-Age': '600' }).end();
      return;
    }
    const route = new URL(req.url ?? '/', 'http://codec').pathname;
    if (route !== '/encode' && route !== '/decode') return reply(res, 404, `no route ${route}; use POST /encode or POST /decode`);
    if (req.method !== 'POST') return reply(res, 405, `${route} takes POST`);
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      return reply(res, 400, `request body is not JSON: ${(err as Error).message}`);
    }
    let payloads;
    try {
      payloads = payloadsFromJsonBody(body);
    } catch (err) {
      return reply(res, 400, (err as Error).message);
    }
    try {
      const out = route === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      reply(res, 200, JSON.stringify({ payloads: out.map(payloadToJson) }), 'application/json');
    } catch (err) {
      // Unknown key id or a tampered payload: the message says which key to load.
      reply(res, 400, (err as Error).message);
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

async function main(): Promise<void> {
  const opts = new Command('codec-server')
    .description('decrypt Hala payloads for the Temporal UI (keys from HALA_CODEC_KEY / HALA_CODEC_KEY_FILE / HALA_CODEC_KEYS)')
    .option('--port <port>', 'port to listen on', '8888')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--cors-origin <url>', 'origin of the Temporal UI', 'http://localhost:8233')
    .parse()
    .opts<{ port: string; host: string; corsOrigin: string }>();
  let keys: CodecKeyring | undefined;
  try {
    keys = loadCodecKeys();
  } catch (err) {
    if (!(err instanceof CodecKeyError)) throw err;
    console.error(`codec-server: ${err.message}`);
    process.exit(2);
  }
  if (!keys) {
    console.error('codec-server: no key configured; set HALA_CODEC_KEY (base64 of 32 bytes) or HALA_CODEC_KEY_FILE');
    process.exit(2);
  }
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`codec-server: --port must be an integer 0-65535 (got ${opts.port})`);
    process.exit(2);
  }
  const server = await startCodecServer({ port, host: opts.host, keys, corsOrigin: opts.corsOrigin });
  console.log(`codec-server: http://${opts.host}:${server.port} (key ids ${[...keys.byId.keys()].join(', ')}; CORS for ${opts.corsOrigin})`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
