// Who may call `hala codec-server` when it runs as a shared service behind the Temporal UI. The UI
// forwards the signed-in user's access token (Codec Server settings: "Pass the user access token")
// as `Authorization: Bearer <JWT>` and names the namespace of the page in `X-Namespace`; this file
// verifies the token and decides, from one of its claims, which namespaces its bearer may read
// (decode) or write (encode). The HTTP wiring is cli/codec-server.ts, the audit line codec-audit.ts.
//   --auth jwks --jwks-url URL [--issuer ISS] [--audience AUD]   RS256 / ES256 tokens of an IdP
//   --auth shared-secret   (secret in HALA_CODEC_AUTH_SECRET)     HS256 tokens signed with that secret
// Without --auth nothing is checked, so the server may only listen on loopback (checkBind).
import { isIP } from 'node:net';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';

export type CodecAuth = { issuer?: string; audience?: string; namespacesClaim: string } & (
  | { mode: 'jwks'; jwksUrl: string }
  | { mode: 'shared-secret'; secret: string }
);

/** Bad flags or environment: refused at start (exit 2), before anything listens. */
export class CodecAuthConfigError extends Error {
  override name = 'CodecAuthConfigError';
}

/**
 * A request refused: the status, the JSON `error` code, for a 401 the WWW-Authenticate challenge, and
 * the token's subject once it verified (the audit line names who was refused a namespace).
 */
export class CodecAccessDenied extends Error {
  override name = 'CodecAccessDenied';
  constructor(
    readonly status: 400 | 401 | 403 | 503,
    readonly code: 'bad_request' | 'unauthorized' | 'forbidden' | 'unavailable',
    message: string,
    readonly context: { challenge?: string; sub?: string } = {},
  ) {
    super(message);
  }
}

export type Access = 'read' | 'write';
/** Temporal Cloud's namespace roles that reach payloads, weakest first; `worker` and others grant nothing here. */
const RANK = { read: 1, write: 2, admin: 3 } as const;
type Role = keyof typeof RANK;

const REALM = 'Bearer realm="hala-codec-server"';
// Tokens are minted by another machine's clock: a few seconds of skew must not refuse a fresh one.
const CLOCK_SKEW_S = 30;
// HS256 with a short secret can be brute-forced offline from any one token (RFC 7518 §3.2: >= 256 bits).
const MIN_SECRET_BYTES = 32;

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1'); // URL.hostname keeps IPv6 brackets
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || /^::ffff:127\./i.test(bare);
}

/** Refuses an open bind without auth: anyone who reaches the port could decrypt every payload. */
export function checkBind(host: string, auth: CodecAuth | undefined): void {
  if (auth || isLoopback(host)) return;
  throw new CodecAuthConfigError(`refusing to listen on ${host} without --auth: anyone who can reach it could decrypt every payload. ` +
    'Add --auth jwks --jwks-url <url> (or --auth shared-secret with HALA_CODEC_AUTH_SECRET), or listen on 127.0.0.1');
}

export interface AuthFlags { auth?: string; jwksUrl?: string; issuer?: string; audience?: string; namespacesClaim: string }

/** The auth the flags ask for (undefined: none), or CodecAuthConfigError saying which flag to fix. */
export function codecAuthFromFlags(flags: AuthFlags, env: NodeJS.ProcessEnv = process.env): CodecAuth | undefined {
  const fail = (message: string) => { throw new CodecAuthConfigError(message); };
  // An empty value is unset: a manifest's $(VAR) from an empty ConfigMap entry gives one.
  const issuer = flags.issuer || undefined;
  const audience = flags.audience || undefined;
  if (!flags.auth) {
    const stray = Object.entries({ '--jwks-url': flags.jwksUrl, '--issuer': issuer, '--audience': audience }).filter(([, v]) => v).map(([f]) => f);
    // Otherwise `--jwks-url` alone would look like protection while checking nothing.
    if (stray.length) fail(`${stray.join(', ')} only take effect with --auth jwks or --auth shared-secret`);
    return undefined;
  }
  if (!flags.namespacesClaim) fail('--namespaces-claim must name the claim that lists the caller\'s namespaces');
  const common = { issuer, audience, namespacesClaim: flags.namespacesClaim };
  if (flags.auth === 'jwks') {
    if (!flags.jwksUrl) return fail('--auth jwks needs --jwks-url <url>: the JSON Web Key Set of the identity provider (its jwks_uri)');
    const url = URL.canParse(flags.jwksUrl) ? new URL(flags.jwksUrl) : fail(`--jwks-url ${flags.jwksUrl} is not a URL`);
    // Whoever can alter the key set in transit can mint tokens that pass.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) fail(`--jwks-url must be https:// (plain http only on loopback), got ${flags.jwksUrl}`);
    return { mode: 'jwks', jwksUrl: url.href, ...common };
  }
  if (flags.auth === 'shared-secret') {
    if (flags.jwksUrl) fail('--jwks-url goes with --auth jwks; --auth shared-secret takes its secret from HALA_CODEC_AUTH_SECRET');
    // Never a flag: a command line shows in ps and in shell history.
    const secret = env.HALA_CODEC_AUTH_SECRET ?? fail('--auth shared-secret reads its secret from HALA_CODEC_AUTH_SECRET, which is not set; generate one with: openssl rand -base64 32');
    if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) fail(`HALA_CODEC_AUTH_SECRET must be at least ${MIN_SECRET_BYTES} bytes (got ${Buffer.byteLength(secret)}); generate one with: openssl rand -base64 32`);
    return { mode: 'shared-secret', secret, ...common };
  }
  return fail(`--auth must be jwks or shared-secret (got ${flags.auth})`);
}

/** The claim named `name`; failing that, a dotted path (realm_access.roles). Exact first: claim names may be URLs. */
function claimAt(payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  return name.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), payload);
}

/**
 * Namespace -> the strongest role a claim grants. Entries are `<namespace>:<role>` (Temporal Cloud's
 * permissions) or plain namespace names, which grant read only: encoding needs an explicit write.
 * The claim may be a list or one space/comma-separated string (as OAuth's `scope` is).
 */
export function namespaceGrants(value: unknown): Map<string, Role> {
  const entries = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const grants = new Map<string, Role>();
  for (const entry of entries.filter(Boolean)) {
    const colon = entry.lastIndexOf(':');
    const [namespace, role] = colon < 0 ? [entry, 'read'] : [entry.slice(0, colon), entry.slice(colon + 1)];
    if (!Object.hasOwn(RANK, role)) continue;
    const had = grants.get(namespace);
    if (!had || RANK[role as Role] > RANK[had]) grants.set(namespace, role as Role);
  }
  return grants;
}

const SERVICE_FAULTS = new Set(['ERR_JOSE_GENERIC', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/** Why jose refused a token, in the words of the flag or secret to check. */
function refusal(err: unknown, auth: CodecAuth, algorithms: string[]): CodecAccessDenied {
  const keys = auth.mode === 'jwks' ? `the JWKS at ${auth.jwksUrl}` : 'HALA_CODEC_AUTH_SECRET';
  // The key set could not be fetched: our fault, and a 401 would send the user to sign in again for nothing.
  if (!(err instanceof errors.JOSEError) || SERVICE_FAULTS.has(err.code)) {
    return new CodecAccessDenied(503, 'unavailable', `cannot check tokens now: fetching ${keys} failed (${(err as Error).message})`);
  }
  let why = err.message;
  if (err instanceof errors.JWTExpired) why = 'it has expired';
  else if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) why = `its signature does not verify against ${keys}`;
  else if (err instanceof errors.JOSEAlgNotAllowed) why = `it is not signed with ${algorithms.join(' or ')}`;
  else if (err instanceof errors.JWTClaimValidationFailed && err.reason === 'check_failed' && (err.claim === 'iss' || err.claim === 'aud')) {
    why = err.claim === 'iss' ? `its issuer is not ${auth.issuer} (--issuer)` : `its audience does not include ${auth.audience} (--audience)`;
  }
  const message = `the bearer token is refused: ${why}`;
  // RFC 6750 §3: the description is a quoted-string, so quotes and backslashes go.
  return new CodecAccessDenied(401, 'unauthorized', message, { challenge: `${REALM}, error="invalid_token", error_description="${message.replace(/["\\]/g, "'")}"` });
}

export interface Caller { sub: string | null }
/** Checks one request: its Authorization header, for `access` to `namespace`. */
export type CodecGuard = (authorization: string | undefined, namespace: string | undefined, access: Access) => Promise<Caller>;

/** The guard for `auth`; with none, every caller passes anonymously (loopback only, see checkBind). */
export function codecGuard(auth: CodecAuth | undefined): CodecGuard {
  if (!auth) return async () => ({ sub: null });
  const options: JWTVerifyOptions = { issuer: auth.issuer, audience: auth.audience, requiredClaims: ['sub', 'exp'], clockTolerance: CLOCK_SKEW_S };
  const algorithms = auth.mode === 'jwks' ? ['RS256', 'ES256'] : ['HS256'];
  // jose caches the key set and refetches it (at most every 30 s) when a token names an unknown kid: key rotation.
  const jwks = auth.mode === 'jwks' ? createRemoteJWKSet(new URL(auth.jwksUrl)) : undefined;
  const secret = auth.mode === 'shared-secret' ? new TextEncoder().encode(auth.secret) : undefined;
  const verify = (token: string) => (jwks ? jwtVerify(token, jwks, { ...options, algorithms }) : jwtVerify(token, secret!, { ...options, algorithms }));

  return async (authorization, namespace, access) => {
    const token = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) {
      throw new CodecAccessDenied(401, 'unauthorized', authorization
        ? 'the Authorization header is not "Bearer <JWT>"'
        : 'no bearer token: in the Temporal UI\'s Codec Server settings, turn on "Pass the user access token"', { challenge: REALM });
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await verify(token));
    } catch (err) {
      throw refusal(err, auth, algorithms);
    }
    const sub = payload.sub!;
    if (!namespace) throw new CodecAccessDenied(400, 'bad_request', 'no X-Namespace header: the Temporal UI and CLI send the namespace of the payloads in it', { sub });
    const grants = namespaceGrants(claimAt(payload, auth.namespacesClaim));
    const role = grants.get(namespace);
    if (role && RANK[role] >= RANK[access]) return { sub };
    const needs = access === 'read' ? `${namespace}:read (or write, admin)` : `${namespace}:write or ${namespace}:admin`;
    const has = grants.size ? [...grants].map(([n, r]) => `${n}:${r}`).join(', ') : 'nothing';
    throw new CodecAccessDenied(403, 'forbidden', `${sub} may not ${access === 'read' ? 'decode' : 'encode'} payloads of namespace ${namespace}: ` +
      `that needs ${needs} in the token's ${auth.namespacesClaim} claim (--namespaces-claim), which grants ${has}`, { sub });
  };
}
