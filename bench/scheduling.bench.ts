import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BenchRow, load, pgbench, RunningService, withPg } from './lib';

const DAY = 86_400_000;
const SLOT = 15 * 60_000;
/** A week ahead, at a UTC midnight, so every slot is bookable; 30 days of 15-minute slots per provider. */
const BASE = Math.floor(Date.now() / DAY) * DAY + 7 * DAY;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const SLOTS_PER_PROVIDER = 30 * 96;

const hotProvider = (id: string) => ({
  id,
  name: `Hot provider ${id.slice(-2)}`,
  timeZone: 'UTC',
  slotDurationMinutes: 15,
  workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
  bookingHorizonDays: 730,
});

const providerId = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;

export async function createHotProviders(service: RunningService, ids: string[]): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`${service.url}/providers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hotProvider(id)) });
    if (res.status !== 201) throw new Error(`creating provider ${id}: ${res.status} ${await res.text()}`);
  }
}

/**
 * The pgbench script runs the statements of one free booking as scheduling issues them (provider,
 * blocked time, two events, the projection row, two outbox rows with the NOTIFY) in one
 * transaction, on its own providers so both runs start from equally empty calendars.
 */
function pgbenchScript(providers: number[]): string {
  // A valid envelope of a type no consumer handles, about as large as a real appointment event.
  const payload = JSON.stringify({
    eventId: '00000000-0000-4000-8000-00000000beef',
    type: 'BenchmarkProbe',
    schemaVersion: 1,
    occurredAt: '2030-01-01T00:00:00.000Z',
    aggregateId: 'pgbench',
    aggregateVersion: 1,
    correlationId: 'pgbench',
    causationId: null,
    data: { note: 'x'.repeat(650) },
  })
    // pgbench would read `:null` as a variable; a space after each key's colon keeps JSON valid and inert.
    .replace(/":/g, '": ')
    .replace(/'/g, "''");
  const pid = `('00000000-0000-4000-8000-0000000000' || lpad(:p::text, 2, '0'))::uuid`;
  const start = `('${new Date(BASE).toISOString()}'::timestamptz + :slot * interval '15 minutes')`;
  return [
    `\\set p random(${Math.min(...providers)}, ${Math.max(...providers)})`,
    `\\set slot random(0, ${SLOTS_PER_PROVIDER - 1})`,
    'BEGIN;',
    `SELECT gen_random_uuid() AS aid, slot_duration_minutes FROM scheduling.providers WHERE id = ${pid} AND deleted_at IS NULL \\gset`,
    `SELECT id FROM scheduling.blocked_times WHERE provider_id = ${pid} AND start_time < ${start} + interval '15 minutes' AND end_time > ${start} LIMIT 1;`,
    `INSERT INTO scheduling.events (event_id, stream_id, stream_type, version, type, data, occurred_at) VALUES (gen_random_uuid(), :aid::uuid, 'appointment', 1, 'AppointmentRequested', '${payload}'::jsonb, now()), (gen_random_uuid(), :aid::uuid, 'appointment', 2, 'AppointmentConfirmed', '${payload}'::jsonb, now()) RETURNING position, event_id;`,
    `INSERT INTO scheduling.appointments (id, provider_id, client_id, start_time, end_time, blocked_start, blocked_end, status, price_minor, currency, policy, client, version, created_at, updated_at) VALUES (:aid::uuid, ${pid}, 'pgbench', ${start}, ${start} + interval '15 minutes', ${start}, ${start} + interval '15 minutes', 'CONFIRMED', 0, 'USD', '{}', '{"timeZone":"UTC"}', 2, now(), now()) ON CONFLICT DO NOTHING;`,
    `WITH inserted AS (INSERT INTO scheduling.outbox (event_id, topic, message_key, event_type, payload) VALUES (gen_random_uuid(), 'scheduling.appointment.v1', :aid, 'BenchmarkProbe', '${payload}'::jsonb), (gen_random_uuid(), 'scheduling.appointment.v1', :aid, 'BenchmarkProbe', '${payload}'::jsonb) RETURNING 1) SELECT pg_notify('scheduling_outbox', '') FROM (SELECT 1 FROM inserted LIMIT 1) AS once;`,
    'END;',
    '',
  ].join('\n');
}

export async function benchScheduling(opts: { service: RunningService; databaseUrl: string; quick: boolean; resultsDir: string }): Promise<BenchRow[]> {
  const { service, databaseUrl, quick } = opts;
  const seconds = quick ? 5 : 20;
  const rows: BenchRow[] = [];
  const serviceProviders = [1, 2, 3, 4].map(providerId);
  const pgbenchProviders = [5, 6, 7, 8];
  await createHotProviders(service, [...serviceProviders, ...pgbenchProviders.map(providerId)]);

  // Booking straight against scheduling: many clients, four hot providers, random slots of 30 days.
  const booking = await load({
    url: service.url,
    connections: 16,
    durationSeconds: seconds,
    method: 'POST',
    build: () => ({
      path: '/appointments',
      body: JSON.stringify({
        providerId: serviceProviders[Math.floor(Math.random() * serviceProviders.length)],
        clientId: `bench-${randomUUID()}`,
        start: new Date(BASE + Math.floor(Math.random() * SLOTS_PER_PROVIDER) * SLOT).toISOString(),
        client: { timeZone: 'Asia/Tokyo' },
      }),
    }),
  });
  const served = (booking.statuses['201'] ?? 0) + (booking.statuses['409'] ?? 0);
  const unexpected = booking.requests - served;
  if (unexpected > 0) throw new Error(`booking bench saw unexpected statuses: ${JSON.stringify(booking.statuses)}`);

  const script = path.join(opts.resultsDir, 'booking.pgbench.sql');
  writeFileSync(script, pgbenchScript(pgbenchProviders));
  const raw = pgbench(databaseUrl, script, 10, seconds);
  const bookingRps = served / seconds;
  rows.push({
    section: 'scheduling',
    name: 'booking transactions/s (direct, 16 clients, 4 hot providers)',
    value: round(bookingRps),
    unit: 'tx/s',
    anchorName: 'pgbench, same transaction, 10 clients',
    anchorValue: round(raw.tps),
    ratio: round(bookingRps / raw.tps, 2),
    target: '≥ 0.6',
    pass: bookingRps / raw.tps >= 0.6,
    note: `201: ${booking.statuses['201'] ?? 0}, 409: ${booking.statuses['409'] ?? 0}, p50 ${booking.p50} ms, p99 ${booking.p99} ms`,
  });

  // No double booking under that load: zero overlapping live rows.
  const overlaps = await withPg(databaseUrl, async (c) =>
    Number(
      (
        await c.query(`SELECT count(*) AS n FROM scheduling.appointments a JOIN scheduling.appointments b
          ON a.provider_id = b.provider_id AND a.id < b.id
         AND tstzrange(a.blocked_start, a.blocked_end) && tstzrange(b.blocked_start, b.blocked_end)
         WHERE a.status IN ('PENDING','CONFIRMED') AND b.status IN ('PENDING','CONFIRMED')`)
      ).rows[0].n,
    ),
  );
  if (overlaps !== 0) throw new Error(`DOUBLE BOOKING: ${overlaps} overlapping live appointment pairs`);
  rows.push({ section: 'scheduling', name: 'overlapping live appointments after the booking load', value: overlaps, unit: 'pairs', target: '= 0', pass: overlaps === 0 });

  // Slot queries on calendars that now hold thousands of bookings.
  const ping = await load({ url: `${service.url}/health/ping`, connections: 8, durationSeconds: quick ? 3 : 10 });
  for (const [label, query] of [
    ['1 day', `date=${isoDate(BASE + 4 * DAY)}`],
    ['31 days', `from=${isoDate(BASE)}&to=${isoDate(BASE + 30 * DAY)}`],
  ] as const) {
    const result = await load({
      url: service.url,
      connections: 8,
      durationSeconds: quick ? 3 : 10,
      build: () => ({ path: `/providers/${serviceProviders[Math.floor(Math.random() * 4)]}/slots?${query}&timeZone=Asia/Tokyo` }),
    });
    if ((result.statuses['200'] ?? 0) !== result.requests) throw new Error(`slot query bench saw ${JSON.stringify(result.statuses)}`);
    rows.push({
      section: 'scheduling',
      name: `slot query ${label}, p99 under load (8 clients)`,
      value: result.p99,
      unit: 'ms',
      target: label === '1 day' ? '≤ 10 ms' : undefined,
      pass: label === '1 day' ? result.p99 <= 10 : undefined,
      note: `${round(result.rps)} req/s, p50 ${result.p50} ms`,
    });
    rows.push({
      section: 'scheduling',
      name: `slot query ${label} req/s`,
      value: round(result.rps),
      unit: 'req/s',
      anchorName: 'constant endpoint, same stack',
      anchorValue: round(ping.rps),
      ratio: round(result.rps / ping.rps, 2),
    });
  }
  return rows;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
