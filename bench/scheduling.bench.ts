import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bookingStatement } from '../services/scheduling/src/appointments/book-appointment.statement';
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

/** A real free booking as the service wrote it: its events and its projection row, to size the anchor's payloads. */
type BookingSample = { events: { type: string; data: unknown }[]; appointment: Record<string, unknown> };

async function sampleBooking(databaseUrl: string, providerId: string): Promise<BookingSample> {
  return withPg(databaseUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT to_jsonb(a) AS appointment,
              (SELECT jsonb_agg(jsonb_build_object('type', e.type, 'data', e.data) ORDER BY e.version) FROM scheduling.events e WHERE e.stream_id = a.id) AS events
         FROM scheduling.appointments a WHERE a.provider_id = $1 AND a.status = 'CONFIRMED' LIMIT 1`,
      [providerId],
    );
    if (!rows[0]) throw new Error('no booking to sample for the pgbench anchor');
    return { events: rows[0].events, appointment: rows[0].appointment };
  });
}

/**
 * The pgbench anchor runs the service's own booking statement (`bookingStatement`, the same text,
 * prepared, one statement per transaction) with payloads as large as a real free booking's: two
 * events, the projection row, two outbox envelopes. Only ids and times vary, assembled by string
 * concatenation. One difference, because pgbench stops a client at its first error: the projection
 * insert takes `ON CONFLICT DO NOTHING`, where the service lets the exclusion constraint raise (409).
 */
function pgbenchScript(providers: number[], sample: BookingSample): string {
  // pgbench would read `:name` as a variable; a space after each key's colon keeps JSON valid and inert.
  const literal = (value: unknown) => `'${JSON.stringify(value).replace(/":/g, '": ').replace(/'/g, "''")}'`;
  const pid = `('00000000-0000-4000-8000-0000000000' || lpad(:p::text, 2, '0'))`;
  const id = (group: string) => `('00000000-0000-4000-${group}' || lpad(:client_id::text, 3, '0') || '-' || lpad(:r::text, 12, '0'))`;
  const start = `('${new Date(BASE).toISOString()}'::timestamptz + :slot * interval '15 minutes')`;
  const end = `(${start} + interval '15 minutes')`;
  const varying = new Set(['id', 'provider_id', 'start_time', 'end_time', 'blocked_start', 'blocked_end']);
  const rest = Object.fromEntries(Object.entries(sample.appointment).filter(([k]) => !varying.has(k)));
  const appointment =
    `('{"id": "' || ${id('a')} || '", "provider_id": "' || ${pid} || '", "start_time": "' || ${start}::text || '", "end_time": "' || ${end}::text ||` +
    ` '", "blocked_start": "' || ${start}::text || '", "blocked_end": "' || ${end}::text || '", ' || substr(${literal(rest)}, 2))`;
  const events = `('[' || ${sample.events
    .map((e, i) => `'{"event_id": "' || ${id(i ? 'c' : 'b')} || '", "version": ${i + 1}, "type": "${e.type}", "data": ' || ${literal(e.data)} || '}'`)
    .join(` || ',' || `)} || ']')`;
  const outbox = `('[' || ${sample.events
    .map(
      (e, i) =>
        `'{"event_id": "' || ${id(i ? 'c' : 'b')} || '", "topic": "scheduling.appointment.v1", "message_key": "' || ${id('a')} || '", "event_type": "${e.type}", "payload": {"eventId": "' || ${id(i ? 'c' : 'b')} || '", "type": "BenchmarkProbe", "schemaVersion": 1, "occurredAt": "2030-01-01T00:00:00.000Z", "aggregateId": "' || ${id('a')} || '", "aggregateVersion": ${i + 1}, "correlationId": "pgbench", "causationId": null, "data": ' || ${literal(e.data)} || '}}'`,
    )
    .join(` || ',' || `)} || ']')`;
  const values: Record<number, string> = {
    1: pid,
    2: '1',
    3: start,
    4: end,
    5: id('a'),
    6: `'pgbench'`,
    7: 'now()',
    8: events,
    9: appointment,
    10: outbox,
  };
  const statement = bookingStatement('scheduling', false)
    .replace('jsonb_populate_record(NULL::scheduling.appointments, $9::jsonb) AS r\n', 'jsonb_populate_record(NULL::scheduling.appointments, $9::jsonb) AS r ON CONFLICT DO NOTHING\n')
    .replace(/\$(\d+)/g, (_, n: string) => `(${values[Number(n)]})`)
    .replace(/\s*\n\s*/g, ' ');
  if (!statement.includes('ON CONFLICT DO NOTHING')) throw new Error('pgbench anchor: could not adapt the booking statement');
  return [
    `\\set p random(${Math.min(...providers)}, ${Math.max(...providers)})`,
    `\\set slot random(0, ${SLOTS_PER_PROVIDER - 1})`,
    `\\set r random(1, 999999999999)`,
    `${statement};`,
    '',
  ].join('\n');
}

export async function benchScheduling(opts: {
  service: RunningService;
  /** Another scheduling instance on the same database with the slot memo off. */
  startUncached: () => Promise<RunningService>;
  databaseUrl: string;
  quick: boolean;
  resultsDir: string;
}): Promise<BenchRow[]> {
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
  writeFileSync(script, pgbenchScript(pgbenchProviders, await sampleBooking(databaseUrl, serviceProviders[0])));
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

  // Slot queries on calendars that now hold thousands of bookings. Repeated queries are answered from
  // the memo (still one statement per query); the uncached instance shows the cost of computing each.
  const ping = await load({ url: `${service.url}/health/ping`, connections: 8, durationSeconds: quick ? 3 : 10 });
  const uncached = await opts.startUncached();
  const variants = [
    ['1 day', `date=${isoDate(BASE + 4 * DAY)}`, service],
    ['31 days', `from=${isoDate(BASE)}&to=${isoDate(BASE + 30 * DAY)}`, service],
    ['1 day without the memo (SLOT_CACHE_MAX_BYTES=0)', `date=${isoDate(BASE + 4 * DAY)}`, uncached],
  ] as const;
  for (const [label, query, target] of variants) {
    const result = await load({
      url: target.url,
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
      note: `${round(result.rps)} req/s, p50 ${result.p50} ms; the constant endpoint under the same load: p50 ${ping.p50} ms, p99 ${ping.p99} ms`,
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
  await uncached.stop();
  return rows;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
