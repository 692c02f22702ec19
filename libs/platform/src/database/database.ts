import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import knexFactory, { Knex } from 'knex';
import { Client, ClientConfig } from 'pg';
import type { BaseConfig } from '../config/config';

export type Migration = {
  name: string;
  /**
   * Set only on a migration that removes or changes what the release before it uses (expand/contract:
   * such a "contract" step ships one release after the code stopped using it); says why that is safe.
   * Without it, a migration may only add (see migrations.int.spec.ts, which checks the statements).
   */
  contract?: string;
  /**
   * `false`: runs outside a transaction, as `CREATE INDEX CONCURRENTLY` must (an index on a table that
   * grows with every booking is built without blocking its writes). Such a migration must be safe to
   * run again after failing half-way (e.g. drop an invalid index it left first).
   */
  transaction?: false;
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

export type DatabaseConfig = Pick<
  BaseConfig,
  | 'DATABASE_URL'
  | 'DATABASE_DIRECT_URL'
  | 'DATABASE_MIGRATION_URL'
  | 'DATABASE_POOLER'
  | 'DATABASE_SSLMODE'
  | 'DATABASE_SSLROOTCERT'
  | 'DB_STATEMENT_TIMEOUT_MS'
  | 'DB_LOCK_TIMEOUT_MS'
  | 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'
  | 'MIGRATION_LOCK_TIMEOUT_MS'
>;

/** What a connection is for: the pool (maybe through a transaction pooler), a session of its own, or migrations. */
export type ConnectionUse = 'pool' | 'session' | 'migration';

/** libpq's sslmode for Node's TLS: `require` encrypts only; `verify-ca` checks the CA; `verify-full` the host name too. */
export function tlsOptions(config: Pick<DatabaseConfig, 'DATABASE_SSLMODE' | 'DATABASE_SSLROOTCERT'>): false | ConnectionOptions {
  const mode = config.DATABASE_SSLMODE;
  if (mode === 'disable') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  let ca: string | undefined;
  if (config.DATABASE_SSLROOTCERT) {
    try {
      ca = readFileSync(config.DATABASE_SSLROOTCERT, 'utf8');
    } catch (error) {
      throw new Error(`DATABASE_SSLROOTCERT=${config.DATABASE_SSLROOTCERT} cannot be read: ${(error as Error).message}`);
    }
  }
  return mode === 'verify-ca' ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { ca, rejectUnauthorized: true };
}

/**
 * The `pg` settings of one kind of connection. The timeouts go in the startup packet (no round trip):
 * pool connections get DB_*_TIMEOUT_MS; a session of its own gets them except the statement timeout (a
 * LISTEN session waits, a VACUUM may run long); a migration gets no statement timeout and waits at most
 * MIGRATION_LOCK_TIMEOUT_MS for any lock, so an ALTER queued behind a long transaction gives up instead of
 * stalling every query queued behind it. A transaction pooler (PgBouncer) forwards no startup options:
 * there the pool's timeouts are the role's own settings (see the README, "Database roles").
 */
export function connectionConfig(config: DatabaseConfig, use: ConnectionUse, applicationName: string): ClientConfig {
  const direct = config.DATABASE_DIRECT_URL ?? config.DATABASE_URL;
  const url = use === 'pool' ? config.DATABASE_URL : use === 'session' ? direct : (config.DATABASE_MIGRATION_URL ?? direct);
  const settings: Record<string, number> =
    use === 'migration'
      ? { statement_timeout: 0, lock_timeout: config.MIGRATION_LOCK_TIMEOUT_MS, idle_in_transaction_session_timeout: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS }
      : {
          statement_timeout: use === 'pool' ? config.DB_STATEMENT_TIMEOUT_MS : 0,
          lock_timeout: config.DB_LOCK_TIMEOUT_MS,
          idle_in_transaction_session_timeout: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        };
  const throughPooler = use === 'pool' && config.DATABASE_POOLER === 'transaction';
  return {
    connectionString: url,
    application_name: applicationName,
    ssl: tlsOptions(config),
    ...(!throughPooler && { options: Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`).join(' ') }),
  };
}

export const asClientConfig = (connection: string | ClientConfig): ClientConfig => (typeof connection === 'string' ? { connectionString: connection } : connection);
const urlOf = (connection: string | ClientConfig): string => asClientConfig(connection).connectionString ?? '';

/**
 * Makes sure the database, the service's schema and the `btree_gist` extension exist, creating only
 * what is missing, so a role that may create none of them starts against a prepared database. A missing
 * database is created through the `postgres` database (a development convenience: nothing else connects
 * there). Safe to run concurrently from several services.
 */
export async function prepareDatabase(connection: string | ClientConfig, schema: string): Promise<void> {
  const client = await connectCreatingDatabase(asClientConfig(connection));
  try {
    const { rows } = await client.query<{ ready: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist')
          AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ready`,
      [schema],
    );
    if (rows[0].ready) return;
    // Extension and schema creation race when services start together; an advisory lock serialises them.
    await client.query('SELECT pg_advisory_lock(7140001)');
    await client.query('CREATE EXTENSION IF NOT EXISTS btree_gist');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query('SELECT pg_advisory_unlock(7140001)');
  } finally {
    await client.end();
  }
}

async function connectCreatingDatabase(config: ClientConfig): Promise<Client> {
  const connect = async (settings: ClientConfig) => {
    const client = new Client({ ...settings, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  };
  try {
    return await connect(config);
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw new DatabaseUnavailableError(urlOf(config), error);
  }
  const url = new URL(urlOf(config));
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = await connect({ ...config, connectionString: url.toString() }).catch((error) => {
    throw new DatabaseUnavailableError(url.toString(), error);
  });
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } catch (error) {
    // Another service created it between our attempt and our create (42P04, or 23505 when both raced).
    if (!['42P04', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
  } finally {
    await admin.end();
  }
  return connect(config);
}

export function quoteIdent(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/**
 * The knex pool of one service schema. `namedStatements: false` (behind a transaction pooler) runs
 * the statements `query` would prepare by name unnamed: a named statement lives in one server session,
 * and a transaction pooler hands the next transaction another.
 */
export function createKnex(connection: string | ClientConfig, schema: string, poolMax = 10, options: { namedStatements?: boolean } = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: { application_name: schema, ...asClientConfig(connection) },
    searchPath: [schema, 'public'],
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10000,
    namedStatements: options.namedStatements ?? true,
  } as Knex.Config);
}

/** Whether `query` may prepare statements by name on this knex (or a transaction of it). */
export function namedStatements(knex: Knex): boolean {
  return (knex.client.config as { namedStatements?: boolean }).namedStatements !== false;
}

export type MigrationResult = {
  /** Migrations this run applied. */
  applied: string[];
  /**
   * Migrations the schema has that this release does not know: a newer release migrated it. Under the
   * expand/contract rule this release runs against that schema unchanged (it is how a rollback works).
   */
  newer: string[];
};

export class MigrationLockTimeoutError extends Error {
  constructor(schema: string, ms: number) {
    super(`another migration of schema "${schema}" held the migration lock for more than ${ms} ms (MIGRATION_LOCK_TIMEOUT_MS); nothing was applied`);
    this.name = 'MigrationLockTimeoutError';
  }
}

export class SchemaBehindError extends Error {
  constructor(schema: string, missing: string[]) {
    super(`schema "${schema}" lacks migrations this release needs (${missing.join(', ')}): run this release's \`migrate\` command first (or start it with MIGRATE_ON_START=true)`);
    this.name = 'SchemaBehindError';
  }
}

/**
 * Runs a service's migrations, kept in code so the same list works from source, from dist and in tests.
 * With `lockConnection`, a session advisory lock serialises concurrent runs (two instances starting
 * together on an empty schema would race on knex's own tables); the connection's lock_timeout bounds
 * the wait for it.
 */
export async function migrate(knex: Knex, schema: string, migrations: readonly Migration[], lockConnection?: string | ClientConfig): Promise<MigrationResult> {
  const lock = lockConnection ? new Client(asClientConfig(lockConnection)) : undefined;
  if (lock) {
    lock.on('error', () => undefined); // a lost lock session fails the run's own queries
    await lock.connect();
    try {
      // Polled, not waited for in pg_advisory_lock: a session blocked there holds a snapshot, and a
      // migration that builds an index CONCURRENTLY waits for every older snapshot to go, so the
      // waiting instance and the migrating one would wait for each other until the lock timeout.
      const setting = await lock.query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'lock_timeout'`);
      const limitMs = Number(setting.rows[0]?.setting) || 0;
      const began = Date.now();
      for (;;) {
        const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`migrate:${schema}`]);
        if (rows[0].locked) break;
        if (limitMs > 0 && Date.now() - began >= limitMs) throw new MigrationLockTimeoutError(schema, limitMs);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } catch (error) {
      await lock.end().catch(() => undefined);
      throw error;
    }
  }
  try {
    return await runMigrations(knex, schema, migrations, Boolean(lock));
  } finally {
    await lock?.end();
  }
}

/** Names of the migrations applied to the schema (none when knex's table is not there yet). */
export async function appliedMigrations(knex: Knex, schema: string): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: { exists: boolean }[] }>(`SELECT to_regclass(?) IS NOT NULL AS exists`, [`${quoteIdent(schema)}.knex_migrations`]);
  if (!rows[0].exists) return [];
  const applied = await knex.raw<{ rows: { name: string }[] }>(`SELECT name FROM ${quoteIdent(schema)}.knex_migrations ORDER BY id`);
  return applied.rows.map((r) => r.name);
}

/** Compares the schema with the release's list: what it lacks, and what it has that the release does not know. */
async function compare(knex: Knex, schema: string, migrations: readonly Migration[]): Promise<{ pending: string[]; newer: string[] }> {
  const applied = await appliedMigrations(knex, schema);
  const known = new Set(migrations.map((m) => m.name));
  const done = new Set(applied);
  return { pending: migrations.map((m) => m.name).filter((n) => !done.has(n)), newer: applied.filter((n) => !known.has(n)) };
}

/**
 * For a service that does not migrate at start-up: fails unless every migration of this release is
 * applied; newer ones (a newer release migrated) are fine and returned.
 */
export async function checkSchema(knex: Knex, schema: string, migrations: readonly Migration[]): Promise<string[]> {
  const { pending, newer } = await compare(knex, schema, migrations);
  if (pending.length) throw new SchemaBehindError(schema, pending);
  return newer;
}

async function runMigrations(knex: Knex, schema: string, migrations: readonly Migration[], locked: boolean): Promise<MigrationResult> {
  const { pending, newer } = await compare(knex, schema, migrations);
  // knex itself refuses a schema with migrations it does not know ("the migration directory is
  // corrupt"), which would crash-loop the previous release after a rollback. Under expand/contract that
  // schema is one the previous release runs on; only a schema that is both ahead and behind (two
  // releases that diverged) is refused.
  if (newer.length && pending.length) {
    throw new Error(`schema "${schema}" has migrations this release does not know (${newer.join(', ')}) and lacks some of its own (${pending.join(', ')}): the releases diverged; migrate with the release that has all of them`);
  }
  if (!pending.length) return { applied: [], newer };
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: async () => [...migrations],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({ up: m.up, down: m.down ?? (async () => undefined), ...(m.transaction === false ? { config: { transaction: false } } : {}) }),
  };
  const settings = { migrationSource: source, schemaName: schema, tableName: 'knex_migrations' };
  // Under the advisory lock nobody else migrates this schema: a knex lock row left set by a run that
  // died half-way is stale, and would otherwise refuse every later run until freed by hand.
  if (locked) await knex.migrate.forceFreeMigrationsLock(settings);
  const [, applied] = (await knex.migrate.latest(settings)) as [number, string[]];
  return { applied, newer };
}

/**
 * Migrates one service schema as the migration role (DATABASE_MIGRATION_URL), on connections of its
 * own with MIGRATION_LOCK_TIMEOUT_MS as their lock timeout: what the `migrate` command and a start-up
 * with MIGRATE_ON_START run.
 */
export async function migrateSchema(config: DatabaseConfig, schema: string, migrations: readonly Migration[]): Promise<MigrationResult> {
  const connection = connectionConfig(config, 'migration', `${schema}-migrate`);
  await prepareDatabase(connection, schema);
  const knex = createKnex(connection, schema, 2);
  try {
    return await migrate(knex, schema, migrations, connection);
  } finally {
    await knex.destroy();
  }
}
