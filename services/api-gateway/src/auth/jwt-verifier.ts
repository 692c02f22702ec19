import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, JWTHeaderParameters, JWTPayload, jwtVerify, JWTVerifyGetKey, KeyLike } from 'jose';
import { z } from 'zod';
import { ProblemError } from '@booking/platform';
import { Principal, Role, ROLES } from './principal';

export type JwtVerifierOptions = {
  issuer: string;
  audience: string;
  /** HS256/384/512. */
  secret?: string;
  /** PEM: RSA (RS*, PS*), EC (ES*) or Ed25519 (EdDSA). */
  publicKey?: string;
  jwksUrl?: string;
  /**
   * How long a fetched JWKS is used before it is fetched again (default 300 s), and so how long a key
   * removed from it keeps verifying. A token whose `kid` is not in the set fetches it at once (at most
   * once per this long, or 30 s if shorter).
   */
  jwksRefreshSeconds?: number;
  clockToleranceSeconds?: number;
};

const VERIFIED_CACHE_SIZE = 10_000;
const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

// Printable ASCII only: the subject travels in headers (X-Caller-Id) and Redis keys.
const claimsSchema = z.object({
  sub: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'sub must be 1-255 printable ASCII characters'),
  roles: z.array(z.string()).min(1, 'roles must name at least one role'),
  client_id: z.string().min(1).max(100).optional(),
  provider_id: z.string().uuid('provider_id must be a UUID').optional(),
});

/** A failure to fetch signing keys is ours, not the caller's: 503, so the client retries. */
class KeysUnavailableError extends Error {}

export const invalidToken = (detail: string, code: 'INVALID_TOKEN' | 'TOKEN_EXPIRED' = 'INVALID_TOKEN') => new ProblemError(401, code, detail);

/**
 * Verifies bearer JWTs: signature (secret, PEM key or JWKS, chosen by the token's `alg`), `exp`,
 * `nbf`, `iss` and `aud`; then reads the platform's claims into a Principal. `alg: none` and
 * algorithms without a configured key are refused.
 */
export class JwtVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly verified = new Map<string, { principal: Principal; validUntil: number }>();
  private readonly rememberMs: number;

  constructor(private readonly options: JwtVerifierOptions) {
    const secret: KeyObject | undefined = options.secret ? createSecretKey(Buffer.from(options.secret, 'utf8')) : undefined;
    const publicKey: KeyObject | undefined = options.publicKey ? createPublicKey(options.publicKey) : undefined;
    const refreshMs = (options.jwksRefreshSeconds ?? 300) * 1000;
    this.rememberMs = Math.min(60_000, refreshMs);
    const jwks = options.jwksUrl
      ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3000, cacheMaxAge: refreshMs, cooldownDuration: Math.min(30_000, refreshMs) })
      : undefined;
    if (!secret && !publicKey && !jwks) throw new Error('JwtVerifier needs a secret, a public key or a JWKS URL');
    this.algorithms = [...(secret ? HMAC : []), ...(publicKey || jwks ? ASYMMETRIC : [])];
    this.getKey = async (header: JWTHeaderParameters, token) => {
      const unconfigured = () => new errors.JOSEAlgNotAllowed(`no key is configured for ${header.alg}`);
      if (HMAC.includes(header.alg)) {
        if (!secret) throw unconfigured();
        return secret as KeyLike;
      }
      if (publicKey && (!jwks || !header.kid)) return publicKey as KeyLike;
      if (!jwks) throw unconfigured();
      try {
        return await jwks(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        throw new KeysUnavailableError((error as Error).message);
      }
    };
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached) {
      if (Date.now() < cached.validUntil) return cached.principal;
      this.verified.delete(token);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.algorithms,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.toProblem(error);
    }
    const principal = principalFromClaims(payload);
    this.remember(token, principal, payload.exp);
    return principal;
  }

  /**
   * Callers send the same token on every request until it expires; verifying it once and keeping the
   * result saves the signature check on each of them. Never kept past the token's exp, nor past a
   * minute or the JWKS refresh, so a key withdrawn from the JWKS stops working with the next refresh.
   * Bounded: the oldest go first.
   */
  private remember(token: string, principal: Principal, exp: number | undefined): void {
    if (exp === undefined) return;
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { principal, validUntil: Math.min(exp * 1000, Date.now() + this.rememberMs) });
  }

  private toProblem(error: unknown): ProblemError {
    if (error instanceof KeysUnavailableError) {
      return new ProblemError(503, 'AUTH_KEYS_UNAVAILABLE', 'The signing keys could not be fetched; retry shortly.');
    }
    if (error instanceof errors.JWTExpired) return invalidToken('The bearer token has expired.', 'TOKEN_EXPIRED');
    if (error instanceof errors.JWTClaimValidationFailed) return invalidToken(`The bearer token was refused: ${error.message}.`);
    if (error instanceof errors.JOSEAlgNotAllowed) return invalidToken('The bearer token is signed with an algorithm this API does not accept.');
    if (error instanceof errors.JWSSignatureVerificationFailed) return invalidToken('The bearer token signature is not valid.');
    return invalidToken('The bearer token is malformed or cannot be verified.');
  }
}

/** The platform's claims: `sub`, `roles`, and `client_id` / `provider_id` for those roles. Unknown roles are ignored. */
export function principalFromClaims(payload: unknown): Principal {
  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) throw invalidToken(`The bearer token's claims are not usable: ${parsed.error.issues.map((i) => i.message).join('; ')}.`);
  const claims = parsed.data;
  const roles = ROLES.filter((role: Role) => claims.roles.includes(role));
  if (roles.length === 0) throw invalidToken(`The bearer token carries no known role (expected one of ${ROLES.join(', ')}).`);
  const clientId = roles.includes('client') ? (claims.client_id ?? claims.sub) : undefined;
  if (clientId !== undefined && clientId.length > 100) throw invalidToken('A client token needs client_id (or sub) of at most 100 characters.');
  const providerId = claims.provider_id?.toLowerCase();
  if (roles.includes('provider') && !providerId) throw invalidToken('A provider token needs the provider_id claim.');
  return {
    subject: claims.sub,
    roles,
    ...(clientId !== undefined && { clientId }),
    ...(providerId && roles.includes('provider') && { providerId }),
  };
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer +(\S+) *$/i.exec(header) : null;
  return match?.[1];
}
