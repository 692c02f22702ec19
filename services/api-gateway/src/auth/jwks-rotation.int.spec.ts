import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, KeyLike, SignJWT } from 'jose';
import { ProblemError } from '@booking/platform';
import { eventually } from '@booking/platform/testing';
import { JwtVerifier } from './jwt-verifier';

const ISSUER = 'https://auth.example/';
const AUDIENCE = 'booking-api';

type SigningKey = { kid: string; privateKey: KeyLike; jwk: JWK };

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const tokenOf = (key: SigningKey, sub: string) =>
  new SignJWT({ roles: ['admin'] })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);

/**
 * Key rotation without downtime against a JWKS served over HTTP: while the set holds the old and the
 * new key, tokens signed by either verify; once the old key is removed, its tokens stop verifying at
 * the next refresh of the set, and the new key's keep working throughout.
 */
describe('JWKS key rotation', () => {
  let server: Server;
  let published: JWK[] = [];
  let fetches = 0;
  let url = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies tokens of both keys while both are published, and stops verifying a removed key after the refresh', async () => {
    const [oldKey, newKey] = await Promise.all([signingKey('2030-01'), signingKey('2030-02')]);
    published = [oldKey.jwk, newKey.jwk];
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url, jwksRefreshSeconds: 1, clockToleranceSeconds: 0 });

    expect(await verifier.verify(await tokenOf(oldKey, 'by-old'))).toMatchObject({ subject: 'by-old', roles: ['admin'] });
    expect(await verifier.verify(await tokenOf(newKey, 'by-new'))).toMatchObject({ subject: 'by-new', roles: ['admin'] });
    // One fetch served both keys: the set is cached, not fetched per token.
    expect(fetches).toBe(1);

    published = [newKey.jwk];
    const oldToken = await tokenOf(oldKey, 'by-old-after');
    const newKeyOutcomes: string[] = [];
    const refused = await eventually(
      async () => {
        // The new key must verify at every moment of the rotation.
        const fresh = await tokenOf(newKey, `by-new-${newKeyOutcomes.length}`);
        newKeyOutcomes.push(await verifier.verify(fresh).then((p) => p.subject, (error: Error) => `refused: ${error.message}`));
        return verifier.verify(oldToken).then(
          () => false,
          (error: ProblemError) => ({ status: error.getStatus(), code: error.code }),
        );
      },
      15000,
      'the removed key to stop verifying',
    );
    expect(refused).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    expect(newKeyOutcomes.filter((o) => o.startsWith('refused'))).toEqual([]);
    expect(newKeyOutcomes.length).toBeGreaterThan(0);
    expect(fetches).toBeGreaterThan(1);
    expect((await verifier.verify(await tokenOf(newKey, 'still-new'))).subject).toBe('still-new');
  });

  it('fetches the set again for a key id it has not seen, so a newly published key verifies at once', async () => {
    const [first, added] = await Promise.all([signingKey('a'), signingKey('b')]);
    published = [first.jwk];
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url, jwksRefreshSeconds: 1, clockToleranceSeconds: 0 });
    expect((await verifier.verify(await tokenOf(first, 'first'))).subject).toBe('first');
    published = [first.jwk, added.jwk];
    const token = await tokenOf(added, 'added');
    const subject = await eventually(async () => verifier.verify(token).then((p) => p.subject, () => false), 15000, 'the added key to verify');
    expect(subject).toBe('added');
  });
});
