import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { baseConfigShape, ConfigError, loadConfig, portVariable } from './config';
import { PUBLISHED_SECRETS, redactUrlPassword, secretVariable, urlPassword } from './secrets';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  const shape = { ...baseConfigShape, PORT: portVariable(3001), SECRET: z.string().min(8) };

  it('applies defaults and coerces numbers', () => {
    const config = loadConfig('test', shape, { SECRET: 'long-enough', PORT: '4000' });
    expect(config.PORT).toBe(4000);
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/booking');
    expect(config.KAFKA_BROKERS).toBe('127.0.0.1:19092');
  });

  it('names every bad or missing variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig('scheduling', shape, { PORT: 'abc', KAFKA_BROKERS: 'nope', DATABASE_URL: 'mysql://x/y' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toContain('scheduling: invalid configuration');
    expect(message).toContain('PORT="abc" is invalid');
    expect(message).toContain('KAFKA_BROKERS="nope" is invalid');
    expect(message).toContain('DATABASE_URL="mysql://x/y" is invalid: must be a postgres:// URL');
    expect(message).toContain('SECRET is missing');
    expect((caught as ConfigError).problems).toHaveLength(4);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig('test', shape, { SECRET: 'long-enough', PORT: '' });
    expect(config.PORT).toBe(3001);
  });
});

describe('loadConfig with secrets', () => {
  const shape = { ...baseConfigShape, API_SECRET: secretVariable(32) };
  // Made per run: a value written here would itself be published.
  const strong = randomBytes(24).toString('base64url');

  it('names a secret that is too short without printing it', () => {
    const problems = problemsOf(() => loadConfig('svc', shape, { API_SECRET: randomBytes(8).toString('hex') }));
    expect(problems).toEqual(['API_SECRET is invalid: must be at least 32 characters']);
  });

  it('refuses every published secret in production, naming the variable and never the value', () => {
    for (const value of PUBLISHED_SECRETS) {
      const error = (() => {
        try {
          loadConfig('svc', shape, { NODE_ENV: 'production', API_SECRET: value });
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error(`accepted the published ${value.length}-character value`);
      })();
      expect(error.message).toContain('API_SECRET');
      expect(error.message).not.toContain(value);
    }
    expect(problemsOf(() => loadConfig('svc', shape, { NODE_ENV: 'production', API_SECRET: 'booking-dev-secret-never-use-outside-development' }))).toEqual([
      'API_SECRET is a value published in this repository (a development default or an example); production needs a secret of its own',
    ]);
  });

  it('accepts published values outside production, and an unpublished one in production', () => {
    expect(loadConfig('svc', shape, { API_SECRET: 'compose-local-secret-change-me-0123456789' }).API_SECRET).toBe('compose-local-secret-change-me-0123456789');
    expect(loadConfig('svc', shape, { NODE_ENV: 'production', API_SECRET: strong }).API_SECRET).toBe(strong);
  });

  it('refuses a published password inside a URL in production, and never prints a URL password', () => {
    expect(problemsOf(() => loadConfig('svc', shape, { NODE_ENV: 'production', DATABASE_URL: 'postgres://postgres:booking@db:5432/booking' }))).toEqual([
      'DATABASE_URL carries a credential published in this repository (a development default or an example); production needs a secret of its own',
    ]);
    const password = randomBytes(8).toString('hex');
    const problems = problemsOf(() => loadConfig('svc', shape, { DATABASE_URL: `mysql://app:${password}@db/booking` }));
    expect(problems).toEqual(['DATABASE_URL="mysql://app:***@db/booking" is invalid: must be a postgres:// URL']);
  });

  it('reads <NAME>_FILE without its final line break, and names the file it cannot read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'config-spec-'));
    const file = path.join(dir, 'api_secret');
    writeFileSync(file, `${strong}\n`);
    expect(loadConfig('svc', shape, { NODE_ENV: 'production', API_SECRET_FILE: file }).API_SECRET).toBe(strong);
    const missing = path.join(dir, 'absent');
    expect(problemsOf(() => loadConfig('svc', shape, { API_SECRET_FILE: missing }))).toEqual([`API_SECRET_FILE="${missing}" cannot be read: ENOENT`]);
    expect(problemsOf(() => loadConfig('svc', shape, { API_SECRET: strong, API_SECRET_FILE: file }))).toEqual(['API_SECRET and API_SECRET_FILE are both set: give one']);
    writeFileSync(file, 'development-push-signing-secret\n');
    const fromFile = problemsOf(() => loadConfig('svc', shape, { NODE_ENV: 'production', API_SECRET_FILE: file }));
    expect(fromFile.join('\n')).toContain('API_SECRET');
    expect(fromFile.join('\n')).not.toContain('development-push-signing-secret');
  });
});

describe('URL passwords', () => {
  it('finds and redacts the password of a URL', () => {
    expect(urlPassword('postgres://u:p%40ss@h:5432/db')).toBe('p@ss');
    expect(urlPassword('postgres://u@h/db')).toBeUndefined();
    expect(urlPassword('smtps://user:pw@mail:465')).toBe('pw');
    expect(redactUrlPassword('smtps://user:pw@mail:465')).toBe('smtps://user:***@mail:465');
    expect(redactUrlPassword('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
