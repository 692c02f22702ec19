import { Client } from 'pg';
import { baseConfigShape, loadConfig, migrate, outboxMigrations, Platform, prepareDatabase, quoteIdent } from '../libs/platform/src';
import { migrations as notificationMigrations } from '../services/notification/src/migrations';
import { migrations as paymentMigrations } from '../services/payment/src/migrations';
import { SystemClock } from '../services/reminder/src/clock';
import { loadReminderConfig } from '../services/reminder/src/config';
import { ReminderDispatcher } from '../services/reminder/src/dispatch/reminder-dispatcher';
import { ReminderWorkers } from '../services/reminder/src/dispatch/reminder-workers';
import { migrations as reminderMigrations } from '../services/reminder/src/migrations';
import { RemindersRepository } from '../services/reminder/src/reminders/reminders.repository';
import { seedScheduledReminders } from '../services/reminder/src/testing/seed';
import { BookingSample, benchProviderId, bookingRequests, DAY_MS, sampleBooking } from './booking-workload';
import { BenchRow, freshDatabase, latencyOf, load, RunningService, startService, withPg } from './lib';

/*
 * Cost as the data grows (issue 20, item 4): the same measurements on two databases side by side in
 * one run, one empty and one holding the history of N past appointments (default 5,000,000;
 * BENCH_GROWTH_APPOINTMENTS sets N, `--quick` 500,000) with what every appointment leaves behind in
 * each schema: its events, its payment, charge and (cancelled) refund, its reminder plan and sent
 * reminders, its confirmation deliveries, and the inboxes' rows of the retention window. The history is
 * generated in SQL (generate_series, INSERT … SELECT; see loadHistory for how the indexes are made),
 * then ANALYZEd, as autovacuum would have done; triggers (availability NOTIFY, foreign keys) are
 * skipped while loading (session_replication_role = replica) since the rows are valid by construction
 * and notifications leave nothing behind.
 *
 * Measured alternately on the two databases (empty, loaded, empty, loaded, …; the median of each), so
 * the machine's other load falls on both alike:
 * - booking throughput: the scheduling service (one instance per database), 16 clients booking free
 *   slots (the uncontended workload) for a few seconds, 201s per second;
 * - the 31-day slot query p99: the same service with the slot memo off (SLOT_CACHE_MAX_BYTES=0), so
 *   every answer reads the busy ranges from Postgres, 8 clients over four calendars that are 20% booked
 *   ahead (identically in both databases) and, in the loaded one, hold their share of the history;
 * - the reminder dispatch rate: two of the reminder service's worker loops (the production class) on
 *   20,000 due reminders seeded into each database.
 * Target: each loaded figure ≥ 0.9 of the empty one (for the p99: empty ÷ loaded ≥ 0.9).
 */

/** Providers the history is spread over (besides the bench's own eight, which get their share). */
const HISTORY_PROVIDERS = 2000;
/** Hours between one provider's past appointments (30 minutes each). */
const HISTORY_STEP_HOURS = 6;
const PROVIDERS = { booking: 41, slots: 45 } as const;
const four = (first: number) => [0, 1, 2, 3].map((i) => benchProviderId(first + i));
const BASE = Math.floor(Date.now() / DAY_MS) * DAY_MS + 7 * DAY_MS;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export type GrowthOptions = {
  baseDatabaseUrl: string;
  brokers: string;
  quick: boolean;
  /** Past appointments loaded; default 5,000,000 (quick: 500,000). */
  appointments?: number;
  log?: (line: string) => void;
};

type Side = {
  name: 'empty' | 'loaded';
  databaseUrl: string;
  scheduling: RunningService;
  reminder: Platform;
  /** A real booking's events and projection row, the history's payloads (none when reused). */
  sample?: BookingSample;
  /** How long the scheduling instance took to start (and apply its migrations). */
  startedMs: number;
  book: () => string;
  bookings: number[];
  slotP99: number[];
  slotRate: number[];
  reminders: number[];
  listP99: number[];
};

export const growthAppointments = (quick: boolean) => Number(process.env.BENCH_GROWTH_APPOINTMENTS) || (quick ? 500_000 : 5_000_000);

export async function benchGrowth(opts: GrowthOptions): Promise<BenchRow[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`growth: ${line}\n`));
  const appointments = opts.appointments ?? growthAppointments(opts.quick);
  const rounds = opts.quick ? 3 : 5;
  const seconds = opts.quick ? 4 : 6;
  const dueReminders = opts.quick ? 5_000 : 20_000;
  const sides: Side[] = [];
  try {
    // BENCH_GROWTH_REUSE=1 takes the loaded database of an earlier run (kept with BENCH_GROWTH_KEEP=1)
    // if it holds a history of this size: only the migrations added since are applied to it (by the
    // services' and the bench's migrate step, as a deployment would), so a fix is measured on the
    // same history without loading it again.
    const reuse = process.env.BENCH_GROWTH_REUSE === '1' && (await historyOf(databaseUrlFor(opts, 'loaded'))) === appointments;
    sides.push(await prepareSide('empty', opts, false));
    const loaded = await prepareSide('loaded', opts, reuse);
    sides.push(loaded);
    let loadSeconds = 0;
    if (reuse) {
      log(`reusing the loaded database (history of ${appointments} appointments); scheduling started (and migrated) in ${(loaded.startedMs / 1000).toFixed(1)} s`);
    } else {
      const started = performance.now();
      const loadReport = await loadHistory(loaded.databaseUrl, loaded.sample!, appointments, log);
      loadSeconds = (performance.now() - started) / 1000;
      log(`history of ${appointments} appointments loaded in ${loadSeconds.toFixed(0)} s: ${loadReport}`);
    }

    for (let round = 0; round < rounds; round++) {
      for (const side of sides) {
        const booked = await load({ url: side.scheduling.url, connections: 16, durationSeconds: seconds, method: 'POST', build: () => ({ path: '/appointments', body: side.book() }) });
        if (booked.errors > 0 || (booked.statuses['201'] ?? 0) !== booked.requests) throw new Error(`growth (${side.name}): booking load saw ${JSON.stringify(booked.statuses)}, ${booked.errors} errors`);
        side.bookings.push(booked.statuses['201'] / booked.seconds);

        const slotProviders = four(PROVIDERS.slots);
        let n = 0;
        const slots = await load({
          url: side.scheduling.url,
          connections: 8,
          durationSeconds: seconds,
          build: () => ({ path: `/providers/${slotProviders[n++ % 4]}/slots?from=${isoDate(BASE)}&to=${isoDate(BASE + 30 * DAY_MS)}&timeZone=Asia/Tokyo` }),
        });
        const reads = latencyOf(slots, '200');
        if (reads.n !== slots.requests || slots.errors > 0) throw new Error(`growth (${side.name}): slot load saw ${JSON.stringify(slots.statuses)}, ${slots.errors} errors`);
        side.slotP99.push(reads.p99);
        side.slotRate.push(reads.n / slots.seconds);

        side.reminders.push(await dispatchRate(side, dueReminders));

        // An operator's view: a page of every provider's appointments of one day (no provider, no client).
        const listing = await load({
          url: side.scheduling.url,
          connections: 2,
          durationSeconds: Math.ceil(seconds / 2),
          build: () => ({ path: `/appointments?from=${new Date(BASE + DAY_MS).toISOString()}&to=${new Date(BASE + 2 * DAY_MS).toISOString()}&limit=50` }),
        });
        const pages = latencyOf(listing, '200');
        if (pages.n !== listing.requests || listing.errors > 0) throw new Error(`growth (${side.name}): listing saw ${JSON.stringify(listing.statuses)}, ${listing.errors} errors`);
        side.listP99.push(pages.p99);
        log(`round ${round + 1} ${side.name}: ${round2(side.bookings.at(-1)!)} bookings/s, 31-day slot p99 ${reads.p99} ms (${round2(reads.n / slots.seconds)}/s), ${round2(side.reminders.at(-1)!)} reminders/s, listing p99 ${pages.p99} ms`);
      }
    }
    const [empty, full] = sides;
    const size = `${appointments >= 1e6 ? `${round(appointments / 1e6, 1)}M` : appointments.toLocaleString('en')} past appointments (${reuse ? 'loaded by an earlier run' : `loaded in ${loadSeconds.toFixed(0)} s`})`;
    const rows: BenchRow[] = [];
    const rate = (name: string, unit: string, pick: (s: Side) => number[], note: string): BenchRow => {
      const [value, anchor] = [median(pick(full)), median(pick(empty))];
      return {
        section: 'growth',
        name: `${name} with ${size}`,
        value: round(value, 1),
        unit,
        anchorName: 'the same on an empty database, same run',
        anchorValue: round(anchor, 1),
        ratio: round(value / anchor),
        target: '≥ 0.9',
        pass: value / anchor >= 0.9,
        note: `${note}; rounds (loaded / empty): ${pick(full).map(round2).join(', ')} / ${pick(empty).map(round2).join(', ')}`,
      };
    };
    rows.push(rate('booking, uncontended: bookings/s (201 only), direct, 16 clients', 'bookings/s', (s) => s.bookings, `median of ${rounds} loads of ${seconds} s, alternating with the empty database`));
    const [p99, p99Empty] = [median(full.slotP99), median(empty.slotP99)];
    rows.push({
      section: 'growth',
      name: `slot query 31 days, uncached (SLOT_CACHE_MAX_BYTES=0), p99 (8 clients) with ${size}`,
      value: p99,
      unit: 'ms',
      anchorName: 'the same on an empty database, same run',
      anchorValue: p99Empty,
      ratio: round(p99Empty / p99),
      target: '≥ 0.9 (empty p99 ÷ loaded p99)',
      pass: p99Empty / p99 >= 0.9,
      note: `queries/s ${round2(median(full.slotRate))} loaded vs ${round2(median(empty.slotRate))} empty; p99 rounds (loaded / empty): ${full.slotP99.join(', ')} / ${empty.slotP99.join(', ')}; calendars 20% booked ahead`,
    });
    const [list, listEmpty] = [median(full.listP99), median(empty.listP99)];
    rows.push({
      section: 'growth',
      name: `appointments of one day, every provider (GET /appointments?from&to&limit=50), p99 (2 clients) with ${size}`,
      value: list,
      unit: 'ms',
      anchorName: 'the same on an empty database, same run',
      anchorValue: listEmpty,
      ratio: round(listEmpty / Math.max(list, 1)),
      target: '≥ 0.9 (empty p99 ÷ loaded p99, at least 1 ms)',
      pass: listEmpty / Math.max(list, 1) >= 0.9,
      note: `p99 rounds (loaded / empty): ${full.listP99.join(', ')} / ${empty.listP99.join(', ')}`,
    });
    rows.push(rate(`reminder dispatch, 2 workers, ${dueReminders} due: reminders/s`, 'reminders/s', (s) => s.reminders, 'the service\'s worker loops (claim + outbox), median of the rounds'));
    return rows;
  } finally {
    for (const side of sides) {
      await side.scheduling.stop();
      await side.reminder.knex.destroy();
      // The loaded database takes gigabytes; BENCH_GROWTH_KEEP=1 keeps both to look at them.
      if (process.env.BENCH_GROWTH_KEEP !== '1') await dropDatabase(side.databaseUrl);
    }
  }
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = new URL(databaseUrl);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  await withPg(admin.toString(), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

const round2 = (n: number) => round(n, 1);

/** A database with every schema migrated, a scheduling instance on it, and the bench's providers and calendars. */
function databaseUrlFor(opts: GrowthOptions, name: Side['name']): string {
  const url = new URL(opts.baseDatabaseUrl);
  url.pathname = `/booking_bench_growth_${name}`;
  return url.toString();
}

/** The size of the history a kept loaded database holds (see loadHistory), or undefined. */
async function historyOf(databaseUrl: string): Promise<number | undefined> {
  try {
    return await withPg(databaseUrl, async (c) => {
      const { rows } = await c.query(`SELECT shobj_description(oid, 'pg_database') AS d FROM pg_database WHERE datname = current_database()`);
      const match = /^growth history: (\d+) appointments$/.exec(rows[0]?.d ?? '');
      return match ? Number(match[1]) : undefined;
    });
  } catch {
    return undefined;
  }
}

/**
 * A database with every schema migrated, a scheduling instance on it, and the bench's providers and
 * calendars (`reuse`: a kept loaded database, which has them; bookings then start after its last).
 */
async function prepareSide(name: Side['name'], opts: GrowthOptions, reuse: boolean): Promise<Side> {
  const databaseUrl = reuse ? databaseUrlFor(opts, name) : await freshDatabase(opts.baseDatabaseUrl, `booking_bench_growth_${name}`);
  const started = performance.now();
  const scheduling = await startService('scheduling', {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: opts.brokers,
    KAFKA_NAMESPACE: `growth${name}${Date.now().toString(36)}`,
    SLOT_CACHE_MAX_BYTES: '0',
  });
  const startedMs = performance.now() - started;
  for (const [schema, own] of [
    ['payment', paymentMigrations],
    ['notification', notificationMigrations],
  ] as const) {
    const platform = schemaPlatform(databaseUrl, schema);
    try {
      await prepareDatabase(databaseUrl, schema);
      await migrate(platform.knex, schema, [...outboxMigrations(schema), ...own]);
    } finally {
      await platform.knex.destroy();
    }
  }
  const reminder = schemaPlatform(databaseUrl, 'reminder');
  await prepareDatabase(databaseUrl, 'reminder');
  await migrate(reminder.knex, 'reminder', [...outboxMigrations('reminder'), ...reminderMigrations]);
  const side = { name, databaseUrl, scheduling, reminder, startedMs, bookings: [], slotP99: [], slotRate: [], reminders: [], listP99: [] };
  if (reuse) {
    const last = await withPg(databaseUrl, async (c) =>
      Number((await c.query(`SELECT extract(epoch FROM max(start_time)) * 1000 AS t FROM scheduling.appointments WHERE provider_id = ANY($1::uuid[])`, [four(PROVIDERS.booking)])).rows[0].t),
    );
    const base = Math.max(BASE, Math.ceil(last / DAY_MS) * DAY_MS + DAY_MS);
    return { ...side, book: bookingRequests('uncontended', four(PROVIDERS.booking), base) };
  }

  for (const id of [...four(PROVIDERS.booking), ...four(PROVIDERS.slots)]) {
    const res = await fetch(`${scheduling.url}/providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        name: `Growth provider ${id.slice(-2)}`,
        timeZone: 'UTC',
        slotDurationMinutes: 15,
        workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
        bookingHorizonDays: 730,
      }),
    });
    if (res.status !== 201) throw new Error(`growth: creating provider ${id}: ${res.status} ${await res.text()}`);
  }
  // One real booking to copy the history's payloads from, then the slot calendars: every fifth
  // 15-minute slot of the 31 days queried, booked alike in both databases.
  const first = await fetch(`${scheduling.url}/appointments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ providerId: benchProviderId(PROVIDERS.slots), clientId: 'growth-sample', start: new Date(BASE + 40 * DAY_MS).toISOString(), client: { timeZone: 'Asia/Tokyo' } }),
  });
  if (first.status !== 201) throw new Error(`growth: sample booking answered ${first.status} ${await first.text()}`);
  const sample = await sampleBooking(databaseUrl, benchProviderId(PROVIDERS.slots));
  await withPg(databaseUrl, (c) =>
    c.query(
      `INSERT INTO scheduling.appointments
       SELECT (jsonb_populate_record(t, jsonb_build_object('id', gen_random_uuid(), 'provider_id', p, 'start_time', s, 'end_time', s + interval '15 minutes',
                                                           'blocked_start', s, 'blocked_end', s + interval '15 minutes'))).*
         FROM scheduling.appointments t, unnest($1::uuid[]) p,
              generate_series($2::timestamptz, $2::timestamptz + interval '31 days' - interval '1 minute', interval '75 minutes') s
        WHERE t.client_id = 'growth-sample'`,
      [four(PROVIDERS.slots), new Date(BASE)],
    ),
  );
  return { ...side, sample, book: bookingRequests('uncontended', four(PROVIDERS.booking), BASE) };
}

function schemaPlatform(databaseUrl: string, schema: string): Platform {
  const config = loadConfig('growth-bench', baseConfigShape, { DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
  return new Platform({ service: 'growth-bench', schema, migrations: [], topics: [], config, poolMax: 4 });
}

/** Seeds `rows` due reminders and lets two worker loops dispatch them; rows per second. */
async function dispatchRate(side: Side, rows: number): Promise<number> {
  const knex = side.reminder.knex;
  const pastDue = Date.now() - 3_600_000;
  await seedScheduledReminders(knex, { count: rows, perAppointment: 2, fireAt: (i) => new Date(pastDue + i) });
  await knex.raw('ANALYZE reminders');
  const config = loadReminderConfig({ DATABASE_URL: side.databaseUrl, LOG_LEVEL: 'silent', REMINDER_WORKERS: '2', REMINDER_BATCH_SIZE: '100', REMINDER_POLL_INTERVAL_MS: '500' });
  const repository = new RemindersRepository(side.reminder);
  const clock = new SystemClock();
  const workers = new ReminderWorkers(new ReminderDispatcher(repository, clock), repository, clock, config, side.reminder);
  await Promise.all([1, 2].map(() => knex.raw('SELECT pg_sleep(0.01)')));
  const started = performance.now();
  workers.start();
  const dispatched = () => workers.stats().reduce((sum, s) => sum + s.dispatched, 0);
  const deadline = Date.now() + 120_000;
  while (dispatched() < rows) {
    if (Date.now() > deadline) throw new Error(`growth (${side.name}): ${dispatched()} of ${rows} reminders dispatched in 120 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
  const elapsed = (performance.now() - started) / 1000;
  await workers.stop();
  // The relay is not running: the ReminderDue rows are the bench's, not a backlog to keep.
  await knex.raw('DELETE FROM outbox');
  return rows / elapsed;
}

/**
 * Writes the history of `count` past appointments into every schema, in SQL, and returns what it
 * wrote (rows per table). Appointment g belongs to provider g mod P and is its (g div P)-th, every
 * HISTORY_STEP_HOURS hours back from a day ago, so the history reaches back about 2 years at 5M.
 * Statuses: 80% CONFIRMED (nothing completes an appointment by itself, so most past ones stay so), 10%
 * COMPLETED, 10% CANCELLED (refunded). Ids are md5-derived (as random as v4 uuids, but reproducible).
 *
 * Three connections load the schemas side by side. Each table's B-tree indexes and unique and
 * primary-key constraints (those no foreign key depends on) are dropped before its rows go in and made
 * again from their own definitions afterwards (see dropIndexes), so the end state has exactly the
 * migrations' indexes and constraints; those B-trees are built at once (as dense as after a REINDEX)
 * instead of grown row by row.
 */
export async function loadHistory(databaseUrl: string, sample: BookingSample, count: number, log: (line: string) => void): Promise<string> {
  const connect = async () => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`SET session_replication_role = replica; SET maintenance_work_mem = '256MB'`);
    return client;
  };
  const template = benchProviderId(PROVIDERS.booking);
  const setup = await connect();
  let providerIds: string[];
  try {
    await setup.query(
      `INSERT INTO scheduling.providers (id, name, time_zone, slot_duration_minutes, working_hours, booking_horizon_days, price_minor, cancellation_policy, created_at, updated_at)
       SELECT md5('growth-provider-' || p)::uuid, 'History provider ' || p, t.time_zone, 30, t.working_hours, t.booking_horizon_days, 5000, t.cancellation_policy, now() - interval '3 years', now() - interval '3 years'
         FROM scheduling.providers t, generate_series(1, $2::int) p WHERE t.id = $1::uuid`,
      [template, HISTORY_PROVIDERS],
    );
    providerIds = (await setup.query(`SELECT id::text FROM scheduling.providers ORDER BY id`)).rows.map((r) => r.id);
  } finally {
    await setup.end();
  }
  const providers = providerIds.length;
  const perProvider = Math.ceil(count / providers);
  const base = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - DAY_MS).toISOString();
  // The g-th appointment's start: the history ends a day ago, at a whole hour.
  const start = `('${base}'::timestamptz - (${perProvider} - g / ${providers}) * interval '${HISTORY_STEP_HOURS} hours')`;
  const series = `generate_series(0, ${count - 1}) g`;
  const id = (kind: string, suffix = '') => `md5('growth-${kind}' || g${suffix})::uuid`;
  const cancelled = `g % 10 = 0`;
  const completed = `g % 10 = 1`;
  const counts: string[] = [];
  const appointment = sample.appointment as Record<string, unknown>;
  const [requested, confirmed] = sample.events;
  // The inboxes hold INBOX_RETENTION_HOURS (a week) of handled events: those of the appointments of the last week.
  const recent = `g >= ${Math.max(0, count - Math.ceil((7 * 24 * providers) / HISTORY_STEP_HOURS))}`;
  type Step = readonly [table: string, sql: string, values: unknown[]];
  const inbox = (schema: string): Step => [
      `${schema}.inbox`,
      `INSERT INTO ${schema}.inbox (consumer, event_id, event_type, processed_at)
       SELECT '${schema}', ${id('e', ` || '.' || v`)}, 'AppointmentConfirmed', ${start} - interval '7 days' + v * interval '1 minute'
         FROM ${series}, generate_series(1, 2) v WHERE ${recent}`,
    [],
  ];
  const groups: Step[][] = [
    [
      [
        'scheduling.appointments',
        `INSERT INTO scheduling.appointments (id, provider_id, client_id, start_time, end_time, blocked_start, blocked_end, status, cancel_reason, price_minor, currency,
                                              paid_minor, payment_id, fee_minor, refund_minor, hold_expires_at, policy, client, version, created_at, updated_at)
         SELECT ${id('a')}, ($3::uuid[])[1 + g % ${providers}], 'client-' || (g % 250000), s, s + interval '30 minutes', s, s + interval '30 minutes',
                CASE WHEN ${cancelled} THEN 'CANCELLED' WHEN ${completed} THEN 'COMPLETED' ELSE 'CONFIRMED' END,
                CASE WHEN ${cancelled} THEN 'CLIENT_REQUEST' END, 5000, 'USD', 5000, ${id('p')}::text, 0, CASE WHEN ${cancelled} THEN 5000 ELSE 0 END,
                NULL, $1::jsonb, $2::jsonb, CASE WHEN ${cancelled} OR ${completed} THEN 3 ELSE 2 END, s - interval '7 days', s + interval '1 hour'
           FROM ${series}, LATERAL (SELECT ${start} AS s) t`,
        [JSON.stringify(appointment.policy), JSON.stringify(appointment.client), providerIds],
      ],
      [
        'scheduling.events',
        `INSERT INTO scheduling.events (event_id, stream_id, stream_type, version, type, data, correlation_id, occurred_at)
         SELECT ${id('e', ` || '.' || v`)}, ${id('a')}, 'appointment', v,
                (ARRAY[$1, $2, CASE WHEN ${cancelled} THEN 'AppointmentCancelled' ELSE 'AppointmentCompleted' END])[v],
                (ARRAY[$3::jsonb, $4::jsonb, $4::jsonb])[v], 'growth', ${start} - interval '7 days' + v * interval '1 minute'
           FROM ${series}, LATERAL generate_series(1, CASE WHEN ${cancelled} OR ${completed} THEN 3 ELSE 2 END) v`,
        [requested.type, confirmed?.type ?? 'AppointmentConfirmed', JSON.stringify(requested.data), JSON.stringify(confirmed?.data ?? requested.data)],
      ],
      inbox('scheduling'),
    ],
    [
      [
        'payment.payments',
        `INSERT INTO payment.payments (id, appointment_id, amount_minor, currency, status, idempotency_key, provider_ref, version, correlation_id, request_event_id, created_at, updated_at)
         SELECT ${id('p')}, ${id('a')}::text, 5000, 'USD', 'SUCCEEDED', 'charge:' || ${id('a')}::text, 'ch_' || md5('growth-c' || g), CASE WHEN ${cancelled} THEN 2 ELSE 1 END,
                'growth', ${id('e', ` || '.1'`)}, ${start} - interval '7 days', ${start} - interval '7 days'
           FROM ${series}`,
        [],
      ],
      [
        'payment.provider_charges',
        `INSERT INTO payment.provider_charges (idempotency_key, charge_id, amount_minor, currency, payment_method, status, refunded_minor, created_at, updated_at)
         SELECT 'charge:' || ${id('a')}::text, 'ch_' || md5('growth-c' || g), 5000, 'USD', 'card', 'SUCCEEDED', CASE WHEN ${cancelled} THEN 5000 ELSE 0 END,
                ${start} - interval '7 days', ${start} - interval '7 days'
           FROM ${series}`,
        [],
      ],
      [
        'payment.refunds',
        `INSERT INTO payment.refunds (id, payment_id, appointment_id, amount_minor, currency, reason, source_event_id, source_event_type, created_at, requested_minor, provider_ref)
         SELECT ${id('r')}, ${id('p')}, ${id('a')}::text, 5000, 'USD', 'CANCELLATION', ${id('e', ` || '.3'`)}, 'AppointmentCancelled', ${start} - interval '3 days', 5000, 're_' || md5('growth-r' || g)
           FROM ${series} WHERE ${cancelled}`,
        [],
      ],
      inbox('payment'),
    ],
    [
      [
        'reminder.appointments',
        `INSERT INTO reminder.appointments (appointment_id, version, status, start_time, end_time, client, provider, updated_at)
         SELECT ${id('a')}::text, CASE WHEN ${cancelled} THEN 3 ELSE 2 END, CASE WHEN ${cancelled} THEN 'CANCELLED' ELSE 'CONFIRMED' END,
                ${start}, ${start} + interval '30 minutes', $1::json, $2::json, ${start}
           FROM ${series}`,
        [JSON.stringify(appointment.client), JSON.stringify({ name: 'History provider', timeZone: 'UTC', email: 'provider@example.com' })],
      ],
      [
        'reminder.reminders',
        `INSERT INTO reminder.reminders (reminder_id, appointment_id, appointment_version, channel, offset_minutes, fire_at, status, attempts, dispatched_at, created_at, updated_at)
         SELECT ${id('m', ` || '.' || o`)}, ${id('a')}::text, 2, 'EMAIL', o, ${start} - o * interval '1 minute',
                CASE WHEN ${cancelled} THEN 'CANCELLED' ELSE 'SENT' END, CASE WHEN ${cancelled} THEN 0 ELSE 1 END,
                CASE WHEN ${cancelled} THEN NULL ELSE ${start} - o * interval '1 minute' END, ${start} - interval '7 days', ${start} - o * interval '1 minute'
           FROM ${series}, unnest(ARRAY[1440, 60]) o`,
        [],
      ],
      inbox('reminder'),
      [
        'notification.deliveries',
        `INSERT INTO notification.deliveries (id, source_event_id, source_event_type, appointment_id, recipient_role, channel, address, status, attempts, created_at, updated_at, completed_at)
         SELECT ${id('d', ` || r`)}, ${id('e', ` || '.2'`)}, 'AppointmentConfirmed', ${id('a')}::text, r, 'EMAIL', lower(r) || '@example.com', 'SENT', 1,
                ${start} - interval '7 days', ${start} - interval '7 days', ${start} - interval '7 days'
           FROM ${series}, unnest(ARRAY['CLIENT', 'PROVIDER']) r`,
        [],
      ],
      inbox('notification'),
    ],
  ];
  await Promise.all(
    groups.map(async (steps) => {
      const client = await connect();
      try {
        for (const [table, sql, values] of steps) {
          const t = performance.now();
          const rebuild = await dropIndexes(client, table);
          const result = await client.query(sql, values);
          const inserted = (performance.now() - t) / 1000;
          for (const statement of rebuild) await client.query(statement);
          log(`  ${table}: ${result.rowCount} rows in ${inserted.toFixed(1)} s, ${rebuild.length} indexes and constraints made in ${((performance.now() - t) / 1000 - inserted).toFixed(1)} s`);
          counts.push(`${table} ${result.rowCount}`);
        }
      } finally {
        await client.end();
      }
    }),
  );
  const client = await connect();
  try {
    const t = performance.now();
    await client.query(`ANALYZE`);
    await client.query(`CHECKPOINT`);
    log(`  ANALYZE + CHECKPOINT in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await client.query(`COMMENT ON DATABASE ${quoteIdent(new URL(databaseUrl).pathname.slice(1))} IS 'growth history: ${count} appointments'`);
    const size = (await client.query(`SELECT pg_size_pretty(pg_database_size(current_database())) AS s`)).rows[0].s;
    return `${counts.join(', ')}; database ${size}`;
  } finally {
    await client.end();
  }
}

/**
 * Drops a table's B-tree indexes and its primary-key and unique constraints, except those a foreign key
 * depends on, and returns the statements that make them again, as they were (a B-tree is built from
 * sorted rows, far faster than row by row). GiST indexes and the exclusion constraint stay: Postgres 15
 * builds them row by row either way, and slower afterwards than while the rows go in.
 */
async function dropIndexes(client: Client, table: string): Promise<string[]> {
  const { rows: constraints } = await client.query<{ name: string; def: string }>(
    `SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
      WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)`,
    [table],
  );
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
      WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        AND (SELECT amname FROM pg_class r JOIN pg_am a ON a.oid = r.relam WHERE r.oid = i.indexrelid) = 'btree'`,
    [table],
  );
  for (const c of constraints) await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${quoteIdent(c.name)}`);
  for (const i of indexes) await client.query(`DROP INDEX ${i.name.includes('.') ? i.name : `${table.split('.')[0]}.${i.name}`}`);
  return [...indexes.map((i) => i.def), ...constraints.map((c) => `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.def}`)];
}
