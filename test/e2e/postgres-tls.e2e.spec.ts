import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { baseConfigShape, connectionConfig, loadConfig } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { http, nextMondayUtc, RunningService, startService } from '../support/platform';

/**
 * Postgres over TLS: the local server with a certificate for `localhost` signed by a CA the test
 * scripts made (scripts/postgres-tls.sh; PG_TLS_CA is that CA). DATABASE_SSLMODE / DATABASE_SSLROOTCERT
 * reach every connection a service opens (pools, the LISTEN session, the relay); the modes check what
 * libpq's do, and a wrong CA or host name fails the connection.
 */
describe('Postgres over TLS', () => {
  const env = new TestEnvironment();
  // Set by test/global-setup.js (or scripts/test.sh), which runs scripts/postgres-tls.sh.
  const ca = process.env.PG_TLS_CA!;
  const atHost = (host: string) => {
    const url = new URL(env.databaseUrl);
    url.hostname = host;
    return url.toString();
  };
  const config = (host: string, mode: string, rootCert?: string) =>
    loadConfig('tls-test', baseConfigShape, { DATABASE_URL: atHost(host), DATABASE_SSLMODE: mode, ...(rootCert && { DATABASE_SSLROOTCERT: rootCert }) });
  /** Connects as the pool would; resolves with whether the session is encrypted. */
  const encrypted = async (host: string, mode: string, rootCert?: string) => {
    const client = new Client(connectionConfig(config(host, mode, rootCert), 'pool', 'tls-test'));
    await client.connect();
    try {
      return (await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0].ssl;
    } finally {
      await client.end();
    }
  };
  let scheduling: RunningService | undefined;
  let otherCaDir: string;

  beforeAll(async () => {
    const admin = new Client({ connectionString: atHost('127.0.0.1').replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "booking_${env.id}"`).finally(() => admin.end());
    otherCaDir = mkdtempSync(path.join(tmpdir(), 'other-ca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=not the server CA', '-keyout', path.join(otherCaDir, 'ca.key'), '-out', path.join(otherCaDir, 'ca.crt')], { stdio: 'ignore' });
  });

  afterAll(async () => {
    await scheduling?.stop();
    await env.destroy();
    rmSync(otherCaDir, { recursive: true, force: true });
  });

  it('verify-full: encrypted, with the CA and the host name checked', async () => {
    await expect(encrypted('localhost', 'verify-full', ca)).resolves.toBe(true);
    // The certificate names localhost, not 127.0.0.1.
    await expect(encrypted('127.0.0.1', 'verify-full', ca)).rejects.toThrow(/does not match certificate's altnames/);
    await expect(encrypted('localhost', 'verify-full', path.join(otherCaDir, 'ca.crt'))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('verify-ca checks the CA only; require encrypts without checking; disable does not encrypt', async () => {
    await expect(encrypted('127.0.0.1', 'verify-ca', ca)).resolves.toBe(true);
    await expect(encrypted('127.0.0.1', 'verify-ca', path.join(otherCaDir, 'ca.crt'))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await expect(encrypted('127.0.0.1', 'require')).resolves.toBe(true);
    await expect(encrypted('127.0.0.1', 'disable')).resolves.toBe(false);
  });

  it('names an unreadable CA file and refuses TLS settings in the URL', () => {
    expect(() => connectionConfig(config('localhost', 'verify-full', '/nonexistent/ca.crt'), 'pool', 'x')).toThrow('DATABASE_SSLROOTCERT=/nonexistent/ca.crt cannot be read');
    expect(() => loadConfig('tls-test', baseConfigShape, { DATABASE_URL: `${atHost('localhost')}?sslmode=require` })).toThrow(/DATABASE_URL.*DATABASE_SSLMODE/s);
  });

  it('a service runs every connection over TLS with verify-full', async () => {
    scheduling = await startService('scheduling', env, { DATABASE_URL: atHost('localhost'), DATABASE_SSLMODE: 'verify-full', DATABASE_SSLROOTCERT: ca, OUTBOX_POLL_INTERVAL_MS: '100' });
    const provider = await http('POST', `${scheduling.url}/providers`, { name: 'TLS clinic', timeZone: 'UTC', slotDurationMinutes: 30, workingHours: { MON: ['09:00', '17:00'] } });
    expect(provider.status).toBe(201);
    const booked = await http('POST', `${scheduling.url}/appointments`, {
      providerId: provider.body.id,
      clientId: 'client-tls',
      start: new Date(nextMondayUtc(2).getTime() + 10 * 3_600_000).toISOString(),
      client: { timeZone: 'UTC' },
    });
    expect(booked.status).toBe(201);
    const admin = new Client({ connectionString: atHost('127.0.0.1') });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ application_name: string; ssl: boolean }>(
        `SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
          WHERE a.datname = current_database() AND a.application_name LIKE 'scheduling%'`,
      );
      expect(rows.map((r) => r.application_name)).toEqual(expect.arrayContaining(['scheduling', 'scheduling-listen', 'scheduling-relay']));
      expect(rows.filter((r) => !r.ssl)).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
