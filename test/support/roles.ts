import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { quoteIdent } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { ServiceName } from './platform';

const ROOT = path.join(__dirname, '..', '..');
const run = promisify(execFile);

export const SCHEMAS: Record<ServiceName, string> = {
  'api-gateway': 'gateway',
  scheduling: 'scheduling',
  payment: 'payment',
  notification: 'notification',
  reminder: 'reminder',
};

export type ServiceRoles = {
  /** The test database's URL as `<schema>_owner` or `<schema>_app`, at `host` (default: the server's own). */
  url(schema: string, kind: 'owner' | 'app', host?: string): string;
  role(schema: string, kind: 'owner' | 'app'): string;
  /** Runs a service's `migrate` command (from dist/) as its owner role; resolves with its output. */
  migrate(service: ServiceName): Promise<string>;
  drop(): Promise<void>;
};

/**
 * Creates the test database and every service's roles in it with the repository's own
 * infra/postgres/create-roles.sh, under a prefix of the environment's id (roles are server-wide).
 */
export async function createServiceRoles(env: TestEnvironment): Promise<ServiceRoles> {
  const admin = new URL(env.databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(new URL(env.databaseUrl).pathname.slice(1))}`);
  } finally {
    await client.end();
  }
  const prefix = `${env.id}_`;
  const passwords: Record<string, string> = {};
  for (const schema of Object.values(SCHEMAS)) {
    for (const kind of ['OWNER', 'APP']) passwords[`${schema.toUpperCase()}_${kind}_PASSWORD`] = randomBytes(12).toString('hex');
  }
  await run('sh', [path.join(ROOT, 'infra', 'postgres', 'create-roles.sh')], {
    env: { ...process.env, ...passwords, ADMIN_DATABASE_URL: env.databaseUrl, ROLE_PREFIX: prefix },
  });
  const role = (schema: string, kind: 'owner' | 'app') => `${prefix}${schema}_${kind}`;
  const url = (schema: string, kind: 'owner' | 'app', host?: string) => {
    const u = new URL(env.databaseUrl);
    if (host) u.host = host;
    u.username = role(schema, kind);
    u.password = passwords[`${schema.toUpperCase()}_${kind.toUpperCase()}_PASSWORD`];
    return u.toString();
  };
  return {
    url,
    role,
    async migrate(service) {
      const main = path.join(ROOT, 'dist', 'services', service, 'src', 'migrate.js');
      const { stdout, stderr } = await run(process.execPath, ['-r', path.join(ROOT, 'tools', 'register-paths.js'), main], {
        env: { ...process.env, LOG_LEVEL: 'info', DATABASE_URL: url(SCHEMAS[service], 'owner') },
      });
      return stdout + stderr;
    },
    async drop() {
      await env.destroy();
      const c = new Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        for (const schema of Object.values(SCHEMAS)) {
          for (const kind of ['owner', 'app'] as const) await c.query(`DROP ROLE IF EXISTS ${quoteIdent(role(schema, kind))}`);
        }
      } finally {
        await c.end();
      }
    },
  };
}
