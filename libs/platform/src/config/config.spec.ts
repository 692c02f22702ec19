import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { baseConfigShape, ConfigError, loadConfig, portVariable } from './config';
import { topicSettings } from './kafka-config';
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

describe('Kafka security variables', () => {
  const password = randomBytes(16).toString('hex');

  it('takes SASL and TLS settings, the password also as a file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kafka-config-spec-'));
    const file = path.join(dir, 'kafka_sasl_password');
    writeFileSync(file, `${password}\n`);
    const config = loadConfig('svc', baseConfigShape, {
      NODE_ENV: 'production',
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA: '/etc/kafka/ca.crt',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'booking',
      KAFKA_SASL_PASSWORD_FILE: file,
    });
    expect(config).toMatchObject({ KAFKA_TLS: true, KAFKA_TLS_CHECK_HOSTNAME: true, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: password });
  });

  it('names variables that contradict each other, never printing the password', () => {
    expect(problemsOf(() => loadConfig('svc', baseConfigShape, { KAFKA_SASL_MECHANISM: 'scram-sha-256' }))).toEqual([
      'KAFKA_SASL_USERNAME is missing: KAFKA_SASL_MECHANISM=scram-sha-256 needs a user name',
      'KAFKA_SASL_PASSWORD is missing: KAFKA_SASL_MECHANISM=scram-sha-256 needs a password',
    ]);
    expect(problemsOf(() => loadConfig('svc', baseConfigShape, { KAFKA_SASL_PASSWORD: password, KAFKA_TLS_CA: '/ca.crt', KAFKA_TLS_CERT: '/c.crt' }))).toEqual([
      'KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is none: set the mechanism (plain, scram-sha-256, scram-sha-512)',
      'KAFKA_TLS_CA is set but KAFKA_TLS is false: set KAFKA_TLS=true',
      'KAFKA_TLS_CERT is set but KAFKA_TLS is false: set KAFKA_TLS=true',
      'KAFKA_TLS_CERT and KAFKA_TLS_KEY go together: give both (a client certificate and its key) or neither',
    ]);
    const plain = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'booking', KAFKA_SASL_PASSWORD: password };
    expect(loadConfig('svc', baseConfigShape, plain).KAFKA_SASL_MECHANISM).toBe('plain');
    expect(problemsOf(() => loadConfig('svc', baseConfigShape, { ...plain, NODE_ENV: 'production' }))).toEqual([
      'KAFKA_SASL_MECHANISM=plain sends the password as it is: production needs KAFKA_TLS=true with it (or SCRAM)',
    ]);
    const short = problemsOf(() => loadConfig('svc', baseConfigShape, { ...plain, KAFKA_SASL_PASSWORD: 'short' }));
    expect(short).toEqual(['KAFKA_SASL_PASSWORD is invalid: must be at least 12 characters']);
  });

  it('refuses the development password of kafka.sh in production, naming the variable only', () => {
    const problems = problemsOf(() =>
      loadConfig('svc', baseConfigShape, { NODE_ENV: 'production', KAFKA_TLS: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'booking', KAFKA_SASL_PASSWORD: 'booking-kafka-dev-password' }),
    );
    expect(problems).toEqual(['KAFKA_SASL_PASSWORD is a value published in this repository (a development default or an example); production needs a secret of its own']);
  });
});

describe('Kafka topic variables', () => {
  it('applies the defaults to every family and a family variable to its family only (dead-letter topics: 1 partition)', () => {
    const config = loadConfig('svc', baseConfigShape, {
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      KAFKA_TOPIC_PAYMENT_PARTITIONS: '12',
      KAFKA_TOPIC_DLQ_RETENTION_HOURS: '720',
    });
    expect(topicSettings(config, 'appointment')).toEqual({ partitions: 3, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: undefined });
    expect(topicSettings(config, 'payment')).toEqual({ partitions: 12, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: undefined });
    expect(topicSettings(config, 'dlq')).toEqual({ partitions: 1, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: 720 });
  });

  it('refuses a min.insync.replicas above the replication factor, and a partition count of 0', () => {
    expect(problemsOf(() => loadConfig('svc', baseConfigShape, { KAFKA_TOPIC_REPLICATION_FACTOR: '1', KAFKA_TOPIC_REMINDER_MIN_INSYNC_REPLICAS: '2' }))).toEqual([
      'the reminder topics would have min.insync.replicas 2 above their replication factor 1: no write with acks=all could succeed (KAFKA_TOPIC_*MIN_INSYNC_REPLICAS, KAFKA_TOPIC_*REPLICATION_FACTOR)',
    ]);
    expect(problemsOf(() => loadConfig('svc', baseConfigShape, { KAFKA_TOPIC_NOTIFICATION_PARTITIONS: '0' }))).toEqual([
      'KAFKA_TOPIC_NOTIFICATION_PARTITIONS="0" is invalid: Number must be greater than or equal to 1',
    ]);
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
