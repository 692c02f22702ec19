import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createKnex, serviceMigrations } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { migrations } from '../../services/scheduling/src/migrations';
import { http, nextMondayUtc, RunningService, startService } from '../support/platform';

const ROOT = path.join(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * Rolling back a release: the schema was migrated by a newer release (here: the newest migration
 * this build knows, plus one it does not — an added column and table, as expand/contract allows). This
 * build, the release before it, must start against that schema and work, whether it migrates at start
 * (MIGRATE_ON_START, `npm start`'s default) or not, and its `migrate` command must say so and succeed.
 * knex on its own refuses such a schema ("the migration directory is corrupt"), which crash-looped the
 * older image. The wait for the migration lock is bounded.
 */
describe('an older release against a newer schema (scheduling)', () => {
  const env = new TestEnvironment();
  const services: RunningService[] = [];
  const migrate = (extra: Record<string, string> = {}) =>
    run(process.execPath, ['-r', path.join(ROOT, 'tools', 'register-paths.js'), path.join(ROOT, 'dist', 'services', 'scheduling', 'src', 'migrate.js')], {
      env: { ...process.env, LOG_LEVEL: 'info', DATABASE_URL: env.databaseUrl, ...extra },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );
  const sql = async (text: string) => {
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    const first = await migrate();
    expect(first).toMatchObject({ code: 0 });
    expect(first.output).toContain('"msg":"migrations applied"');
    // The newer release's expand migration, applied by its own migrate command.
    await sql(`ALTER TABLE scheduling.appointments ADD COLUMN intake_notes text;
               CREATE TABLE scheduling.waitlist (id uuid PRIMARY KEY, provider_id uuid NOT NULL);
               INSERT INTO scheduling.knex_migrations (name, batch, migration_time) VALUES ('0099_next_release_waitlist', 2, now())`);
  }, 120000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await env.destroy();
  });

  it('is what knex alone refuses', async () => {
    const knex = createKnex(env.databaseUrl, 'scheduling', 1);
    try {
      const source = {
        getMigrations: async () => serviceMigrations('scheduling', migrations),
        getMigrationName: (m: { name: string }) => m.name,
        getMigration: async (m: { up: never }) => ({ up: m.up }),
      };
      await expect(knex.migrate.latest({ migrationSource: source, schemaName: 'scheduling', tableName: 'knex_migrations' })).rejects.toThrow(/migration directory is corrupt/);
    } finally {
      await knex.destroy();
    }
  });

  it('migrate command: succeeds, applies nothing and names the newer migration', async () => {
    const result = await migrate();
    expect(result.code).toBe(0);
    expect(result.output).toContain('schema is ahead of this release');
    expect(result.output).toContain('0099_next_release_waitlist');
  });

  it('starts and books, migrating at start or not', async () => {
    services.push(await startService('scheduling', env), await startService('scheduling', env, { MIGRATE_ON_START: 'false' }));
    const [a, b] = services;
    const provider = await http('POST', `${a.url}/providers`, {
      name: 'Rolled back',
      timeZone: 'UTC',
      slotDurationMinutes: 30,
      workingHours: { MON: ['09:00', '17:00'] },
    });
    expect(provider.status).toBe(201);
    const monday = nextMondayUtc(2).getTime();
    for (const [i, service] of services.entries()) {
      const booked = await http('POST', `${service.url}/appointments`, {
        providerId: provider.body.id,
        clientId: `client-${i}`,
        start: new Date(monday + (9 + i) * 3_600_000).toISOString(),
        client: { timeZone: 'UTC' },
      });
      expect(booked.status).toBe(201);
      expect(booked.body.status).toBe('CONFIRMED');
    }
    expect((await http('GET', `${b.url}/appointments?providerId=${provider.body.id}`)).body.items).toHaveLength(2);
  });

  it('refuses a schema that lacks one of its own migrations while having a newer one (diverged releases)', async () => {
    await sql(`DELETE FROM scheduling.knex_migrations WHERE name = '0003_idempotency_keys_created_at'`);
    try {
      const result = await migrate();
      expect(result.code).toBe(1);
      expect(result.output).toContain('the releases diverged');
    } finally {
      await sql(`INSERT INTO scheduling.knex_migrations (name, batch, migration_time) VALUES ('0003_idempotency_keys_created_at', 1, now())`);
    }
  });

  it('waits for the migration lock no longer than MIGRATION_LOCK_TIMEOUT_MS', async () => {
    const holder = new Client({ connectionString: env.databaseUrl });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('migrate:scheduling'))`);
      const started = Date.now();
      const result = await migrate({ MIGRATION_LOCK_TIMEOUT_MS: '1500' });
      expect(result.code).toBe(1);
      expect(result.output).toContain('held the migration lock for more than 1500 ms');
      // Bounded by the timeout plus a process start, not by the holder.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    } finally {
      await holder.end();
    }
  });
});
