import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { baseConfigShape, ConfigError, flagVariable, loadConfig, portVariable, secretVariable } from '@booking/platform/config';

/**
 * The signing secret `npm start` uses when nothing is configured (NODE_ENV=development only), so the
 * platform runs out of the box. It is public, so it is never accepted in test or production.
 */
export const DEV_JWT_SECRET = 'booking-dev-secret-never-use-outside-development';
export const DEV_JWT_ISSUER = 'booking-dev';
export const DEV_JWT_AUDIENCE = 'booking-api';

const optionalText = z.string().min(1).optional();

export const gatewayConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3000),
  SCHEDULING_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\/[^/]+\/?$/.test(v), 'must be an http(s) origin such as http://127.0.0.1:3001')
    .default('http://127.0.0.1:3001'),
  /** Whole-request budget for one call to scheduling; past it the client gets a 504. */
  SCHEDULING_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(5000),
  /** Keep-alive connections the gateway holds open to scheduling. */
  SCHEDULING_CONNECTIONS: z.coerce.number().int().min(1).max(1024).default(64),
  /** Bytes of slot answers kept with their ETags to revalidate with scheduling (0: none); see SchedulingClient.revalidate. */
  SLOT_ANSWERS_MAX_BYTES: z.coerce.number().int().min(0).max(1 << 30).default(4 << 20),
  /**
   * true: hear scheduling's availability change feed and send a kept slot answer again without asking
   * scheduling while the feed names no change of its provider; false: revalidate every slot answer.
   */
  SCHEDULING_CHANGE_FEED: flagVariable(true),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  /** HS256/384/512 shared secret. */
  JWT_SECRET: secretVariable(32),
  /** PEM public key (RSA, EC or Ed25519); `\n` escapes are accepted so it fits in one variable. */
  JWT_PUBLIC_KEY: optionalText,
  JWT_JWKS_URL: z.string().url().optional(),
  /** How long a fetched JWKS is used; a key removed from the JWKS stops verifying within this long. */
  JWT_JWKS_REFRESH_SECONDS: z.coerce.number().int().min(1).max(86400).default(300),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  /** Requests per caller per minute, counted in Redis and so shared by every gateway instance. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(600),
  RATE_LIMIT_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,100}$/)
    .default('gateway:rl'),
  /** How long an unfinished Idempotency-Key claim blocks retries (409) before another attempt may take it over. */
  IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /**
   * Browser origins allowed to call the API (CORS), comma-separated, e.g. `https://app.example.com`;
   * empty: none (no CORS headers, so browsers on other origins cannot read answers).
   */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((origins) => origins.every((o) => /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(o)), 'must be origins such as https://app.example.com, comma-separated (no paths, no *)'),
  /** How long a finished Idempotency-Key is replayed before it is forgotten. */
  IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
};

type RawConfig = z.infer<z.ZodObject<typeof gatewayConfigShape>>;

export type ApiGatewayConfig = Omit<RawConfig, 'JWT_ISSUER' | 'JWT_AUDIENCE'> & { JWT_ISSUER: string; JWT_AUDIENCE: string };

/**
 * Reads the gateway's environment. Beyond the per-variable rules: at least one key source
 * (secret, public key or JWKS URL), an issuer and an audience must be configured, except in
 * development where the documented dev values stand in.
 */
export function loadApiGatewayConfig(env: NodeJS.ProcessEnv = process.env): ApiGatewayConfig {
  const raw = loadConfig('api-gateway', gatewayConfigShape, env);
  const development = raw.NODE_ENV === 'development';
  const problems: string[] = [];
  const hasKey = Boolean(raw.JWT_SECRET || raw.JWT_PUBLIC_KEY || raw.JWT_JWKS_URL);
  const secret = raw.JWT_SECRET ?? (development && !hasKey ? DEV_JWT_SECRET : undefined);
  if (!hasKey && !development) problems.push('JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL: at least one is required to verify bearer tokens');
  if (raw.JWT_SECRET === DEV_JWT_SECRET && !development) problems.push('JWT_SECRET is the public development secret; set a real one');
  if (raw.NODE_ENV === 'production' && raw.JWT_JWKS_URL && !raw.JWT_JWKS_URL.startsWith('https://')) {
    problems.push('JWT_JWKS_URL must be an https:// URL in production: the signing keys must not be open to tampering on the way');
  }
  const publicKey = raw.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n');
  if (publicKey) {
    try {
      createPublicKey(publicKey);
    } catch (error) {
      problems.push(`JWT_PUBLIC_KEY is not a PEM public key: ${(error as Error).message}`);
    }
  }
  const issuer = raw.JWT_ISSUER ?? (development ? DEV_JWT_ISSUER : undefined);
  const audience = raw.JWT_AUDIENCE ?? (development ? DEV_JWT_AUDIENCE : undefined);
  if (!issuer) problems.push('JWT_ISSUER is missing: the issuer (iss) every token must carry');
  if (!audience) problems.push('JWT_AUDIENCE is missing: the audience (aud) every token must carry');
  if (raw.IDEMPOTENCY_LEASE_SECONDS * 1000 <= raw.SCHEDULING_TIMEOUT_MS) {
    problems.push('IDEMPOTENCY_LEASE_SECONDS must be longer than SCHEDULING_TIMEOUT_MS, or a slow request could lose its claim mid-flight');
  }
  if (problems.length || !issuer || !audience) throw new ConfigError('api-gateway', problems);
  return { ...raw, JWT_SECRET: secret, JWT_PUBLIC_KEY: publicKey, JWT_ISSUER: issuer, JWT_AUDIENCE: audience };
}
