import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { http, RunningService, ServiceName, startService } from '../support/platform';
import { createServiceRoles, SCHEMAS, ServiceRoles } from '../support/roles';

/**
 * The production database setup end to end: each service's schema migrated by its own `migrate`
 * command as its owner role, then all five services running as roles that own nothing and may only
 * use their own schema, their pools through a real PgBouncer in transaction mode
 * (DATABASE_POOLER=transaction) and their sessions (LISTEN, the outbox relay's lock) direct
 * (DATABASE_DIRECT_URL), with MIGRATE_ON_START=false. A paid booking goes through the saga to
 * CONFIRMED, its reminder is sent, and no role can read or write another service's schema.
 */
describe('services as their own roles, pooled through PgBouncer in transaction mode', () => {
  const env = new TestEnvironment();
  const pgbouncer = new URL(process.env.PGBOUNCER_URL ?? 'postgres://127.0.0.1:6439');
  let roles: ServiceRoles;
  let smtp: SMTPServer;
  const mails: string[] = [];
  const running: Partial<Record<ServiceName, RunningService>> = {};
  const migrateOutput: string[] = [];

  const envFor = (service: ServiceName, extra: Record<string, string> = {}) => {
    const schema = SCHEMAS[service];
    return {
      DATABASE_URL: roles.url(schema, 'app', pgbouncer.host),
      DATABASE_DIRECT_URL: roles.url(schema, 'app'),
      DATABASE_POOLER: 'transaction',
      MIGRATE_ON_START: 'false',
      OUTBOX_POLL_INTERVAL_MS: '100',
      ...extra,
    };
  };

  beforeAll(async () => {
    roles = await createServiceRoles(env);
    migrateOutput.push(...(await Promise.all((Object.keys(SCHEMAS) as ServiceName[]).map((s) => roles.migrate(s)))));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        let data = '';
        stream.on('data', (chunk) => (data += chunk));
        stream.on('end', () => {
          mails.push(data);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    // Each one is kept as it starts, so that a failed start still stops the others.
    const start = async (service: ServiceName, extra?: Record<string, string>) =>
      (running[service] = await startService(service, env, envFor(service, extra)));
    // One after another: five services starting at once on a loaded 2-core machine take longer each.
    const scheduling = await start('scheduling');
    await start('payment', { PAYMENT_PROVIDER_LATENCY_MS: '0' });
    await start('notification', { SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, MAIL_FROM: 'bookings@clinic.test' });
    // The one reminder fires at once: the slot booked below starts just over this many minutes from now.
    await start('reminder', { REMINDER_OFFSETS_MINUTES: String(reminderOffset()) });
    await start('api-gateway', {
      SCHEDULING_URL: scheduling.url,
      JWT_SECRET: randomBytes(24).toString('hex'),
      JWT_ISSUER: 'https://auth.test/',
      JWT_AUDIENCE: 'booking-api',
      RATE_LIMIT_KEY_PREFIX: `pgb:${env.id}`,
    });
  }, 700000);

  afterAll(async () => {
    await Promise.all(Object.values(running).map((s) => s.stop()));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await roles?.drop();
  });

  // The next half hour that is at least 40 minutes away; the reminder offset (rounded up) puts its fire
  // time a minute or less before the reminder service starts, within its missed-reminder grace, so it is
  // sent at once. Rounded down, it could fall up to a minute later, past the test's wait.
  const slotStart = (() => {
    const halfHour = 30 * 60_000;
    return new Date(Math.ceil((Date.now() + 40 * 60_000) / halfHour) * halfHour);
  })();
  function reminderOffset(): number {
    return Math.ceil((slotStart.getTime() - Date.now()) / 60_000);
  }

  it('migrated every schema with the migrate command, as the owner roles', () => {
    for (const output of migrateOutput) expect(output).toContain('"msg":"migrations applied"');
  });

  it('books, confirms through the saga and sends the reminder, every pool through PgBouncer', async () => {
    const scheduling = running.scheduling!;
    const provider = await http('POST', `${scheduling.url}/providers`, {
      name: 'Pooled clinic',
      timeZone: 'UTC',
      slotDurationMinutes: 30,
      workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
      price: { amountMinor: 4000, currency: 'EUR' },
    });
    expect(provider.status).toBe(201);
    const booked = await http('POST', `${scheduling.url}/appointments`, {
      providerId: provider.body.id,
      clientId: 'client-pooled',
      start: slotStart.toISOString(),
      client: { timeZone: 'Europe/Paris', email: 'client@example.test' },
      paymentMethod: 'tok_success',
    });
    expect(booked.status).toBe(201);
    const id = booked.body.id;
    await eventually(async () => (await http('GET', `${scheduling.url}/appointments/${id}`)).body.status === 'CONFIRMED', 30000, 'CONFIRMED');
    const payments = (await http('GET', `${running.payment!.url}/payments?appointmentId=${id}`)).body;
    expect(JSON.stringify(payments)).toContain('SUCCEEDED');
    const sent = await eventually(async () => {
      const r = await http('GET', `${running.reminder!.url}/reminders?appointmentId=${id}`);
      const reminders: { status: string }[] = r.body?.reminders ?? [];
      return reminders.some((x) => x.status === 'SENT') ? reminders : undefined;
    }, 30000, 'a reminder SENT');
    expect(sent.length).toBeGreaterThan(0);
    await eventually(async () => mails.some((m) => m.includes('client@example.test')), 30000, 'a mail to the client');

    // A second booking of the same slot is refused by the exclusion constraint, through the pooler too.
    const again = await http('POST', `${scheduling.url}/appointments`, {
      providerId: provider.body.id,
      clientId: 'client-other',
      start: slotStart.toISOString(),
      client: { timeZone: 'UTC' },
      paymentMethod: 'tok_success',
    });
    expect(again.status).toBe(409);
  });

  it('keeps every service to its own schema: no reads, no writes, no DDL elsewhere or at home', async () => {
    const schemas = Object.values(SCHEMAS);
    for (const own of schemas) {
      const client = new Client({ connectionString: roles.url(own, 'app') });
      await client.connect();
      try {
        await expect(client.query(`SELECT count(*) FROM ${own}.inbox`)).resolves.toBeDefined();
        await expect(client.query(`CREATE TABLE ${own}.intruder (id int)`)).rejects.toMatchObject({ code: '42501' });
        await expect(client.query(`CREATE SCHEMA intruder_${own}`)).rejects.toMatchObject({ code: '42501' });
        await expect(client.query('CREATE TABLE public.intruder (id int)')).rejects.toMatchObject({ code: '42501' });
        for (const other of schemas.filter((s) => s !== own)) {
          await expect(client.query(`SELECT count(*) FROM ${other}.inbox`)).rejects.toMatchObject({ code: '42501' });
          await expect(client.query(`INSERT INTO ${other}.inbox (consumer, event_id, event_type) VALUES ('x', gen_random_uuid(), 'X')`)).rejects.toMatchObject({ code: '42501' });
        }
        const owned = await client.query(`SELECT count(*)::int AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user`);
        expect(owned.rows[0].n).toBe(0);
      } finally {
        await client.end();
      }
    }
    // The owner roles too stay out of each other's schemas.
    const owner = new Client({ connectionString: roles.url('scheduling', 'owner') });
    await owner.connect();
    try {
      await expect(owner.query('SELECT count(*) FROM payment.payments')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await owner.end();
    }
  });

  it('runs the sessions direct and the pools as the app roles', async () => {
    const admin = new Client({ connectionString: env.databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ usename: string; application_name: string }>(
        `SELECT usename, application_name FROM pg_stat_activity WHERE datname = current_database() AND usename LIKE $1`,
        [`${env.id}_%`],
      );
      const users = new Set(rows.map((r) => r.usename));
      for (const schema of Object.values(SCHEMAS)) expect(users).toContain(roles.role(schema, 'app'));
      expect(rows.map((r) => r.application_name)).toEqual(expect.arrayContaining(['scheduling-listen', 'scheduling-relay']));
      expect(rows.some((r) => r.usename.endsWith('_owner'))).toBe(false);
    } finally {
      await admin.end();
    }
  });
});
