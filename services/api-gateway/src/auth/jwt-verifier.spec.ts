import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { ProblemError } from '@booking/platform';
import { bearerToken, JwtVerifier, principalFromClaims } from './jwt-verifier';

const ISSUER = 'https://auth.example/';
const AUDIENCE = 'booking-api';
const SECRET = 'a-secret-of-at-least-thirty-two-characters!';
const PROVIDER_ID = '3f1c2b9e-5d4a-4c3b-9a8f-7e6d5c4b3a21';

const sign = (claims: Record<string, unknown>, o: { secret?: string; iss?: string; aud?: string; exp?: string | number; nbf?: string | number } = {}) => {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m');
  if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
  return jwt.sign(new TextEncoder().encode(o.secret ?? SECRET));
};

const hmacVerifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, secret: SECRET, clockToleranceSeconds: 0 });

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string; detail: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    const e = error as ProblemError;
    return { status: e.getStatus(), code: e.code, detail: e.message };
  }
  throw new Error('expected the token to be refused');
}

describe('JwtVerifier', () => {
  it('accepts a good HS256 token and reads the principal', async () => {
    const principal = await hmacVerifier.verify(await sign({ roles: ['client'], client_id: 'client-42' }));
    expect(principal).toEqual({ subject: 'user-1', roles: ['client'], clientId: 'client-42' });
  });

  it.each([
    ['expired', () => sign({ roles: ['admin'] }, { exp: Math.floor(Date.now() / 1000) - 60 }), 'TOKEN_EXPIRED'],
    ['not yet valid (nbf)', () => sign({ roles: ['admin'] }, { nbf: '10m' }), 'INVALID_TOKEN'],
    ['from another issuer', () => sign({ roles: ['admin'] }, { iss: 'https://evil.example/' }), 'INVALID_TOKEN'],
    ['for another audience', () => sign({ roles: ['admin'] }, { aud: 'another-api' }), 'INVALID_TOKEN'],
    ['signed with another secret', () => sign({ roles: ['admin'] }, { secret: 'another-secret-of-at-least-thirty-two-chars' }), 'INVALID_TOKEN'],
    ['unsigned (alg none)', async () => new UnsecuredJWT({ roles: ['admin'] }).setSubject('user-1').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode(), 'INVALID_TOKEN'],
    ['without roles', () => sign({}), 'INVALID_TOKEN'],
    ['with an empty roles list', () => sign({ roles: [] }), 'INVALID_TOKEN'],
    ['with only unknown roles', () => sign({ roles: ['superuser'] }), 'INVALID_TOKEN'],
    ['a provider without provider_id', () => sign({ roles: ['provider'] }), 'INVALID_TOKEN'],
    ['a provider_id that is not a UUID', () => sign({ roles: ['provider'], provider_id: 'doc-1' }), 'INVALID_TOKEN'],
    ['garbage', async () => 'not.a.jwt', 'INVALID_TOKEN'],
  ])('refuses a token %s with 401', async (_name, make, code) => {
    const problem = await refusal(hmacVerifier.verify(await make()));
    expect(problem).toMatchObject({ status: 401, code });
  });

  it('requires exp', async () => {
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(new TextEncoder().encode(SECRET));
    expect(await refusal(hmacVerifier.verify(token))).toMatchObject({ status: 401, detail: expect.stringContaining('exp') });
  });

  it('verifies RS256 and ES256 with a configured PEM public key, and refuses HS256 when no secret is configured', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsVerifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const rsToken = await new SignJWT({ roles: ['provider'], provider_id: PROVIDER_ID.toUpperCase() })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('doc-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    expect(await rsVerifier.verify(rsToken)).toEqual({ subject: 'doc-1', roles: ['provider'], providerId: PROVIDER_ID });
    expect(await refusal(rsVerifier.verify(await sign({ roles: ['admin'] })))).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const esVerifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const esToken = await new SignJWT({ roles: ['service'] }).setProtectedHeader({ alg: 'ES256' }).setSubject('svc').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(ec.privateKey);
    expect(await esVerifier.verify(esToken)).toEqual({ subject: 'svc', roles: ['service'] });
    // A token signed by another EC key fails the signature check.
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'ES256' }).setSubject('x').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(stranger.privateKey);
    expect(await refusal(esVerifier.verify(forged))).toMatchObject({ status: 401, detail: expect.stringContaining('signature') });
  });
});

describe('JwtVerifier cache of verified tokens', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a repeated token from the cache, but never past its exp', async () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, secret: SECRET, clockToleranceSeconds: 0 });
    const token = await sign({ roles: ['admin'] }, { exp: '30s' });
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    jest.setSystemTime(new Date('2030-01-01T00:00:31Z'));
    expect(await refusal(verifier.verify(token))).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
  });
});

describe('principalFromClaims', () => {
  it('defaults client_id to sub, ignores unknown roles, and keeps provider_id only for providers', () => {
    expect(principalFromClaims({ sub: 'ada', roles: ['client', 'auditor'] })).toEqual({ subject: 'ada', roles: ['client'], clientId: 'ada' });
    expect(principalFromClaims({ sub: 'op', roles: ['admin'], provider_id: PROVIDER_ID })).toEqual({ subject: 'op', roles: ['admin'] });
  });

  it('refuses subjects that could not travel in a header', () => {
    expect(() => principalFromClaims({ sub: 'line\nbreak', roles: ['admin'] })).toThrow(ProblemError);
    expect(() => principalFromClaims({ sub: 'x'.repeat(256), roles: ['admin'] })).toThrow(ProblemError);
  });

  it('refuses a client whose id would not fit an appointment (100 characters)', () => {
    expect(() => principalFromClaims({ sub: 'x'.repeat(101), roles: ['client'] })).toThrow(ProblemError);
    expect(principalFromClaims({ sub: 'x'.repeat(101), roles: ['client'], client_id: 'short' }).clientId).toBe('short');
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['Basic dXNlcjpwYXNz', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%p → %p', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});
