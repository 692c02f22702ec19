import knexFactory, { Knex } from 'knex';
import { Client } from 'pg';

export type Migration = {
  name: string;
  up: (knex: Knex) => Promise<void>;
  down?: (knex: Knex) => Promise<void>;
};

export class DatabaseUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `Postgres did not answer at ${redact(url)} (${(cause as Error)?.message ?? cause}). ` +
        'Start a local server (pg_ctlcluster <version> main start) or point DATABASE_URL at one, ' +
        'e.g. DATABASE_URL=postgres://user:password@host:5432/booking',
    );
    this.name = 'DatabaseUnavailableError';
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Creates the database named in the URL if it is missing, then the service's schema and the
 * extensions it needs. Safe to run concurrently from several services.
 */
export async function prepareDatabase(databaseUrl: string, schema: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1)) || 'postgres';
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const adminClient = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await adminClient.connect();
  } catch (error) {
    throw new DatabaseUnavailableError(databaseUrl, error);
  }
  try {
    const exists = await adminClient.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      try {
        await adminClient.query(`CREATE DATABASE ${quoteIdent(database)}`);
      } catch (error) {
        // Another service created it between our check and our create (42P04, or 23505 when both raced).
        if (!['42P04', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
      }
    }
  } finally {
    await adminClient.end();
  }
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    // Extension and schema creation race when services start together; an advisory lock serialises them.
    await client.query('SELECT pg_advisory_lock(7140001)');
    await client.query('CREATE EXTENSION IF NOT EXISTS btree_gist');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query('SELECT pg_advisory_unlock(7140001)');
  } finally {
    await client.end();
  }
}

export function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

export function createKnex(databaseUrl: string, schema: string, poolMax = 10): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: schema },
    searchPath: [schema, 'public'],
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10000,
  });
}

/** Runs a service's migrations, kept in code so the same list works from source, from dist and in tests. */
export async function migrate(knex: Knex, schema: string, migrations: readonly Migration[], databaseUrl?: string): Promise<string[]> {
  // Two instances starting together on an empty schema would race on knex's own tables: a session
  // advisory lock lets one migrate while the other waits, then finds nothing to do.
  const lock = databaseUrl ? new Client({ connectionString: databaseUrl }) : undefined;
  if (lock) {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${schema}`]);
  }
  try {
    return await runMigrations(knex, schema, migrations);
  } finally {
    await lock?.end();
  }
}

async function runMigrations(knex: Knex, schema: string, migrations: readonly Migration[]): Promise<string[]> {
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: async () => [...migrations],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({ up: m.up, down: m.down ?? (async () => undefined) }),
  };
  const [, applied] = (await knex.migrate.latest({
    migrationSource: source,
    schemaName: schema,
    tableName: 'knex_migrations',
  })) as [number, string[]];
  return applied;
}
