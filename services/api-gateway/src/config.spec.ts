import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@booking/platform';
import { DEV_JWT_AUDIENCE, DEV_JWT_ISSUER, DEV_JWT_SECRET, loadApiGatewayConfig } from './config';

const production = { NODE_ENV: 'production', JWT_ISSUER: 'https://auth.example/', JWT_AUDIENCE: 'booking-api' };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadApiGatewayConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadApiGatewayConfig', () => {
  it('runs out of the box in development with the documented dev key, issuer and audience', () => {
    const config = loadApiGatewayConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      SCHEDULING_URL: 'http://127.0.0.1:3001',
      SCHEDULING_TIMEOUT_MS: 5000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_PER_MINUTE: 600,
      JWT_SECRET: DEV_JWT_SECRET,
      JWT_ISSUER: DEV_JWT_ISSUER,
      JWT_AUDIENCE: DEV_JWT_AUDIENCE,
    });
  });

  it('does not add the dev secret when another key source is configured', () => {
    expect(loadApiGatewayConfig({ JWT_JWKS_URL: 'https://auth.example/.well-known/jwks.json' }).JWT_SECRET).toBeUndefined();
  });

  it('requires a key source, an issuer and an audience outside development, naming each', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.join('\n')).toMatch(/JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL/);
    expect(problems.join('\n')).toMatch(/JWT_ISSUER is missing/);
    expect(problems.join('\n')).toMatch(/JWT_AUDIENCE is missing/);
  });

  it('refuses the public dev secret, short secrets and broken PEM keys in production', () => {
    expect(problemsOf({ ...production, JWT_SECRET: DEV_JWT_SECRET }).join('\n')).toMatch(/JWT_SECRET is a value published in this repository/);
    expect(problemsOf({ NODE_ENV: 'test', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_SECRET: DEV_JWT_SECRET }).join('\n')).toMatch(/public development secret/);
    expect(problemsOf({ ...production, JWT_SECRET: 'short' })).toEqual(['JWT_SECRET is invalid: must be at least 32 characters']);
    expect(problemsOf({ ...production, JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }).join('\n')).toMatch(/not a PEM public key/);
  });

  it('requires an https JWKS URL in production', () => {
    expect(problemsOf({ ...production, JWT_JWKS_URL: 'http://auth.example/jwks.json' }).join('\n')).toMatch(/JWT_JWKS_URL must be an https:\/\/ URL/);
    expect(loadApiGatewayConfig({ ...production, JWT_JWKS_URL: 'https://auth.example/jwks.json' }).JWT_JWKS_REFRESH_SECONDS).toBe(300);
  });

  it('accepts a PEM public key written on one line with \\n escapes', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const config = loadApiGatewayConfig({ ...production, JWT_PUBLIC_KEY: pem.replace(/\n/g, '\\n') });
    expect(config.JWT_PUBLIC_KEY).toBe(pem);
  });

  it('refuses an idempotency lease shorter than a scheduling call may take', () => {
    expect(problemsOf({ SCHEDULING_TIMEOUT_MS: '10000', IDEMPOTENCY_LEASE_SECONDS: '5' }).join('\n')).toMatch(/IDEMPOTENCY_LEASE_SECONDS/);
  });

  it('refuses a scheduling URL with a path and a non-redis REDIS_URL', () => {
    expect(problemsOf({ SCHEDULING_URL: 'http://scheduling:3001/api' }).join('\n')).toMatch(/SCHEDULING_URL/);
    expect(problemsOf({ REDIS_URL: 'http://localhost:6379' }).join('\n')).toMatch(/REDIS_URL/);
  });
});
