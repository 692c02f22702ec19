import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BaseConfig, baseConfigShape, loadConfig } from '../config/config';
import { quoteIdent } from '../database/database';

const baseUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking_test';

/**
 * A private database and Kafka namespace for one test file, so test files can run in parallel
 * against the same Postgres server and broker without seeing each other's rows or events.
 */
export class TestEnvironment {
  readonly id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly databaseUrl: string;
  readonly namespace: string;

  constructor() {
    const url = new URL(baseUrl());
    url.pathname = `/booking_${this.id}`;
    this.databaseUrl = url.toString();
    this.namespace = this.id;
  }

  /** Environment variables a service needs to run inside this test environment. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
      DATABASE_URL: this.databaseUrl,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
      KAFKA_NAMESPACE: this.namespace,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      // No load balancer to wait for: a stopped test service closes at once.
      SHUTDOWN_DRAIN_MS: '0',
      ...extra,
    };
  }

  baseConfig(): BaseConfig {
    return loadConfig('test', baseConfigShape, this.env());
  }

  /** Drops the private database (kills leftover connections first). */
  async destroy(): Promise<void> {
    const admin = new URL(this.databaseUrl);
    admin.pathname = '/postgres';
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(`booking_${this.id}`)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
}

/** Polls until `probe` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
