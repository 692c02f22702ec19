import { generateKeyPairSync } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { exportJWK, SignJWT } from 'jose';
import { ProblemError } from '@booking/platform';
import { JwtVerifier } from './jwt-verifier';

/** Keys from a JWKS URL, served by a real HTTP server: rotation by kid, and an unreachable key server. */
describe('JwtVerifier with a JWKS URL', () => {
  const ISSUER = 'https://auth.example/';
  const AUDIENCE = 'booking-api';
  const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const next = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let published: object[] = [];
  let server: Server;
  let url: string;

  beforeAll(async () => {
    published = [{ ...(await exportJWK(current.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }];
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const sign = (key: Parameters<SignJWT['sign']>[0], alg: string, kid: string) =>
    new SignJWT({ roles: ['service'] }).setProtectedHeader({ alg, kid }).setSubject('svc').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(key);

  it('verifies each published key by kid (RSA and EC) and refuses an unknown kid with 401', async () => {
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url });
    expect(await verifier.verify(await sign(current.privateKey, 'RS256', 'k1'))).toEqual({ subject: 'svc', roles: ['service'] });

    published = [...published, { ...(await exportJWK(next.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' }];
    // A verifier refetches on an unknown kid only after its 30 s cooldown; a fresh one fetches at once.
    const fresh = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url });
    expect(await fresh.verify(await sign(next.privateKey, 'ES256', 'k2'))).toEqual({ subject: 'svc', roles: ['service'] });

    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(fresh.verify(await sign(stranger.privateKey, 'RS256', 'k9'))).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('answers 503 AUTH_KEYS_UNAVAILABLE when the key server cannot be reached', async () => {
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://127.0.0.1:9/jwks.json' });
    const error = await verifier.verify(await sign(current.privateKey, 'RS256', 'k1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).getStatus()).toBe(503);
    expect((error as ProblemError).code).toBe('AUTH_KEYS_UNAVAILABLE');
  });
});
