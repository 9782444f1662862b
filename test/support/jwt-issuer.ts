// A stand-in identity provider for the codec server's tests: RS256 and ES256 key pairs made here,
// their public halves served as a JWKS over HTTP on loopback (as an IdP's jwks_uri), and tokens
// signed with jose. `forged` signs with a key the JWKS does not hold, under a kid it does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://idp.test/';
export const AUDIENCE = 'temporal-ui';

export interface TokenOptions {
  alg?: 'RS256' | 'ES256' | 'HS256';
  /** null leaves the claim out. */
  sub?: string | null;
  iss?: string;
  aud?: string;
  /** Seconds from now (negative: already expired). */
  expiresIn?: number;
  claims?: JWTPayload;
  /** HS256: the secret to sign with. */
  secret?: string;
  forged?: boolean;
}

/** A JWT as an IdP would mint it; the defaults pass `--issuer ISSUER --audience AUDIENCE`. */
export async function signToken(signers: Record<string, CryptoKey>, o: TokenOptions = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(o.claims ?? {}).setProtectedHeader({ alg, kid: alg === 'HS256' ? undefined : alg.toLowerCase() })
    .setIssuer(o.iss ?? ISSUER).setAudience(o.aud ?? AUDIENCE).setIssuedAt(now - 60).setExpirationTime(now + (o.expiresIn ?? 300));
  if (o.sub !== null) jwt.setSubject(o.sub ?? 'alice');
  return jwt.sign(alg === 'HS256' ? new TextEncoder().encode(o.secret) : signers[o.forged ? 'forged' : alg]!);
}

export interface Issuer {
  jwksUrl: string;
  sign(o?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<Issuer> {
  const [rs, es, forged] = await Promise.all([generateKeyPair('RS256'), generateKeyPair('ES256'), generateKeyPair('RS256')]);
  const jwks = JSON.stringify({ keys: [
    { ...(await exportJWK(rs.publicKey)), kid: 'rs256', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(es.publicKey)), kid: 'es256', alg: 'ES256', use: 'sig' },
  ] });
  // `forged` claims the RS256 kid, so only its signature gives it away.
  const signers = { RS256: rs.privateKey, ES256: es.privateKey, forged: forged.privateKey };
  const server = http.createServer((req, res) => {
    if (req.url === '/jwks.json') res.writeHead(200, { 'Content-Type': 'application/json' }).end(jwks);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    sign: (o) => signToken(signers, o),
    close: () => new Promise<void>((done, fail) => server.close((e) => (e ? fail(e) : done()))),
  };
}
