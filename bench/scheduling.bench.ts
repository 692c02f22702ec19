import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  BLOCK_DAYS,
  BookingWorkload,
  benchProviderId,
  bookingRequests,
  collectAnchorOutcome,
  DAY_MS,
  pgbenchScript,
  sampleBooking,
  SLOT_MS,
  WORKLOADS,
} from './booking-workload';
import { BenchRow, latencyOf, load, LoadResult, pgbench, pgbenchArgs, percentile, RunningService, withPg } from './lib';

/** A week ahead, at a UTC midnight, so every slot is bookable. */
const BASE = Math.floor(Date.now() / DAY_MS) * DAY_MS + 7 * DAY_MS;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Clients of the service's booking loads (autocannon connections) and of the pgbench anchor. */
const SERVICE_CLIENTS = 16;
const PGBENCH_CLIENTS = 10;

/** Fixed provider numbers (see benchProviderId): four per use, so a pgbench script can name them. */
const PROVIDERS = {
  service: { uncontended: 1, contended: 5 },
  pgbench: { uncontended: 9, contended: 13 },
  warmUp: 17,
  mixed: 21,
  staleness: 25,
} as const;
const four = (first: number) => [0, 1, 2, 3].map((i) => benchProviderId(first + i));

const hotProvider = (id: string) => ({
  id,
  name: `Hot provider ${id.slice(-2)}`,
  timeZone: 'UTC',
  slotDurationMinutes: 15,
  workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
  bookingHorizonDays: 730,
});

async function createHotProviders(service: RunningService, ids: string[]): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`${service.url}/providers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hotProvider(id)) });
    if (res.status !== 201) throw new Error(`creating provider ${id}: ${res.status} ${await res.text()}`);
  }
}

/** One pgbench run of a booking workload, with the services paused. */
export type BookingAnchor = {
  workload: BookingWorkload;
  clients: number;
  transactions: number;
  tps: number;
  /** Transactions that booked their slot (the rest found it taken and wrote nothing). */
  winners: number;
  winnersPerSec: number;
  latencyMs: number;
  script: string;
};

/** The service's side of a booking workload: only 201s count. */
export type BookingLoad = { workload: BookingWorkload; winnersPerSec: number; result: LoadResult };

export type SchedulingBenchOptions = {
  service: RunningService;
  /** Starts another scheduling instance on the same database (with extra environment). */
  startInstance: (env: Record<string, string>) => Promise<RunningService>;
  databaseUrl: string;
  quick: boolean;
  /** Where this run keeps a file of its own (the pgbench scripts). */
  artifact: (name: string) => string;
  /** Runs `work` with every platform process stopped. */
  pause: <T>(work: () => Promise<T> | T) => Promise<T>;
  /** Waits until the platform has relayed and consumed every event so far. */
  drain: () => Promise<number>;
};

/** Seconds of each booking load and of each pgbench run. */
export const bookingSeconds = (quick: boolean) => (quick ? 5 : 15);

/** Runs the service's booking statement under pgbench for one workload (services paused), and reads back what it wrote. */
export async function measureBookingAnchor(opts: SchedulingBenchOptions, workload: BookingWorkload, sampleFrom: string): Promise<BookingAnchor> {
  const seconds = bookingSeconds(opts.quick);
  const first = PROVIDERS.pgbench[workload];
  const script = opts.artifact(`booking-${workload}.pgbench.sql`);
  const args = pgbenchArgs(script, PGBENCH_CLIENTS, seconds, { n: 0, clients: PGBENCH_CLIENTS });
  const text = pgbenchScript(workload, first, BASE, await sampleBooking(opts.databaseUrl, sampleFrom));
  const shown = args.map((a) => (a === script ? path.basename(script) : a));
  writeFileSync(script, `-- run as: pgbench ${shown.join(' ')} <the bench database>\n${text}`);
  await opts.drain();
  const run = await opts.pause(() => pgbench(opts.databaseUrl, args));
  const outcome = await collectAnchorOutcome(opts.databaseUrl, four(first));
  if (outcome.events !== 2 * outcome.appointments || outcome.outbox !== 2 * outcome.appointments) {
    throw new Error(`pgbench anchor (${workload}): a conflict wrote something: ${JSON.stringify(outcome)}`);
  }
  // Every uncontended transaction asked for a free slot, so every one must have booked it.
  if (workload === 'uncontended' && outcome.appointments !== run.transactions) {
    throw new Error(`pgbench anchor (uncontended): ${run.transactions} transactions booked ${outcome.appointments} slots`);
  }
  return {
    workload,
    clients: PGBENCH_CLIENTS,
    transactions: run.transactions,
    tps: run.tps,
    winners: outcome.appointments,
    winnersPerSec: (run.tps * outcome.appointments) / run.transactions,
    latencyMs: run.latencyMs,
    script,
  };
}

/** Creates the providers the scheduling section books on, and warms the service up on some of them; returns a provider to sample a booking from. */
export async function prepareBooking(opts: SchedulingBenchOptions): Promise<string> {
  const all = [PROVIDERS.service.uncontended, PROVIDERS.service.contended, PROVIDERS.pgbench.uncontended, PROVIDERS.pgbench.contended, PROVIDERS.warmUp, PROVIDERS.mixed];
  await createHotProviders(opts.service, [...all.flatMap(four), benchProviderId(PROVIDERS.staleness)]);
  // pgbench has no JIT to warm up; the service's first seconds are not its steady state.
  const warmUp = bookingRequests('uncontended', four(PROVIDERS.warmUp), BASE);
  await load({ url: opts.service.url, connections: SERVICE_CLIENTS, durationSeconds: opts.quick ? 2 : 5, method: 'POST', build: () => ({ path: '/appointments', body: warmUp() }) });
  return benchProviderId(PROVIDERS.warmUp);
}

export async function benchScheduling(opts: SchedulingBenchOptions): Promise<{ rows: BenchRow[]; anchors: Record<BookingWorkload, BookingAnchor> }> {
  const { service, databaseUrl, quick } = opts;
  const seconds = bookingSeconds(quick);
  const rows: BenchRow[] = [];
  const sampleFrom = await prepareBooking(opts);

  const anchors = {} as Record<BookingWorkload, BookingAnchor>;
  for (const workload of WORKLOADS) {
    await opts.drain();
    const next = bookingRequests(workload, four(PROVIDERS.service[workload]), BASE);
    const result = await load({ url: service.url, connections: SERVICE_CLIENTS, durationSeconds: seconds, method: 'POST', build: () => ({ path: '/appointments', body: next() }) });
    const booking = checkBookingLoad(workload, result, seconds, 'booking bench');
    const anchor = (anchors[workload] = await measureBookingAnchor(opts, workload, sampleFrom));
    rows.push(bookingRow('scheduling', `direct, ${SERVICE_CLIENTS} clients`, booking, anchor, 0.6));
  }

  // No double booking under that load, and no conflict left anything behind on either side.
  const { overlaps, strays } = await withPg(databaseUrl, async (c) => {
    const overlapping = await c.query(`SELECT count(*)::int AS n FROM scheduling.appointments a JOIN scheduling.appointments b
          ON a.provider_id = b.provider_id AND a.id < b.id
         AND tstzrange(a.blocked_start, a.blocked_end) && tstzrange(b.blocked_start, b.blocked_end)
         WHERE a.status IN ('PENDING','CONFIRMED') AND b.status IN ('PENDING','CONFIRMED')`);
    const stray = await c.query(`SELECT count(*)::int AS n FROM scheduling.events e WHERE e.stream_type = 'appointment'
          AND NOT EXISTS (SELECT 1 FROM scheduling.appointments a WHERE a.id = e.stream_id)`);
    return { overlaps: overlapping.rows[0].n as number, strays: stray.rows[0].n as number };
  });
  if (overlaps !== 0) throw new Error(`DOUBLE BOOKING: ${overlaps} overlapping live appointment pairs`);
  if (strays !== 0) throw new Error(`a refused booking left ${strays} events behind`);
  rows.push({ section: 'scheduling', name: 'overlapping live appointments after the booking loads', value: overlaps, unit: 'pairs', target: '= 0', pass: overlaps === 0, note: 'and no events of a refused booking, on either side' });

  rows.push(...(await benchSlots(opts)));
  return { rows, anchors };
}

/** Fails on any status but 201 and 409, and on a 409 where the workload asks only for free slots. */
export function checkBookingLoad(workload: BookingWorkload, result: LoadResult, seconds: number, what: string): BookingLoad {
  const won = result.statuses['201'] ?? 0;
  const lost = result.statuses['409'] ?? 0;
  if (won + lost !== result.requests || result.errors > 0) throw new Error(`${what} (${workload}) saw unexpected answers: ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
  if (workload === 'uncontended' && lost > 0) throw new Error(`${what} (uncontended): ${lost} requests for free slots got 409`);
  return { workload, winnersPerSec: won / seconds, result };
}

export function bookingRow(section: string, how: string, booking: BookingLoad, anchor: BookingAnchor | undefined, target: number): BenchRow {
  const { result, workload } = booking;
  const won = result.statuses['201'] ?? 0;
  const lost = result.statuses['409'] ?? 0;
  const winners = latencyOf(result, '201');
  const mix = (w: number, all: number) => `${all ? Math.round((100 * (all - w)) / all) : 0}% conflicts`;
  return {
    section,
    name: `booking, ${workload === 'uncontended' ? 'uncontended (every request a free slot)' : 'contended (every slot asked for twice at once)'}: bookings/s (201 only), ${how}`,
    value: round(booking.winnersPerSec),
    unit: 'bookings/s',
    ...(anchor && {
      anchorName: `pgbench, same statement semantics, same workload, ${anchor.clients} clients, services paused`,
      anchorValue: round(anchor.winnersPerSec),
      ratio: round(booking.winnersPerSec / anchor.winnersPerSec, 2),
      pass: booking.winnersPerSec / anchor.winnersPerSec >= target,
    }),
    target: `≥ ${target}`,
    note:
      `201: ${won}, 409: ${lost} (${mix(won, won + lost)}), 201 p50 ${winners.p50} ms, p99 ${winners.p99} ms` +
      (anchor ? `; pgbench: ${anchor.transactions} tx at ${round(anchor.tps)} tx/s, ${anchor.winners} booked (${mix(anchor.winners, anchor.transactions)}), script ${path.basename(anchor.script)}` : ''),
  };
}

/**
 * Slot queries. On the contended providers' calendars (the first 31 days hold the contended load's
 * winners): one day and 31 days from this instance, whose memo answers a repeated query without
 * reading the database while no change of the provider has been heard; one day from an instance with
 * the memo off, which reads and computes every answer. Then a mixed load in which every 20th request
 * books a free slot on the calendars being read, so memo answers are re-read (and the day's answer
 * recomputed) after every booking of their provider. Last, how long another instance keeps answering
 * with a slot after it was booked here.
 */
async function benchSlots(opts: SchedulingBenchOptions): Promise<BenchRow[]> {
  const { service, quick } = opts;
  const rows: BenchRow[] = [];
  const short = quick ? 3 : 10;
  const calendars = four(PROVIDERS.service.contended);
  const booked = await withPg(opts.databaseUrl, async (c) =>
    Number(
      (
        await c.query(`SELECT count(*)::int AS n FROM scheduling.appointments WHERE provider_id = ANY($1::uuid[]) AND start_time >= $2 AND start_time < $3`, [
          calendars,
          new Date(BASE),
          new Date(BASE + BLOCK_DAYS * DAY_MS),
        ])
      ).rows[0].n,
    ),
  );
  const fill = `calendars ${Math.round((100 * booked) / (4 * BLOCK_DAYS * 96))}% booked`;
  const ping = await load({ url: `${service.url}/health/ping`, connections: 8, durationSeconds: short });
  const constant = `the constant endpoint under the same load: p50 ${ping.p50} ms, p99 ${ping.p99} ms`;
  const uncached = await opts.startInstance({ SLOT_CACHE_MAX_BYTES: '0' });
  try {
    const variants = [
      { label: '1 day', query: `date=${isoDate(BASE + 4 * DAY_MS)}`, on: service, p99: 10 },
      { label: '31 days', query: `from=${isoDate(BASE)}&to=${isoDate(BASE + 30 * DAY_MS)}`, on: service, p99: undefined },
      { label: '1 day, uncached (SLOT_CACHE_MAX_BYTES=0: every answer read and computed)', query: `date=${isoDate(BASE + 4 * DAY_MS)}`, on: uncached, p99: 20 },
    ];
    for (const { label, query, on, p99 } of variants) {
      const result = await load({
        url: on.url,
        connections: 8,
        durationSeconds: short,
        build: () => ({ path: `/providers/${calendars[Math.floor(Math.random() * 4)]}/slots?${query}&timeZone=Asia/Tokyo` }),
      });
      if ((result.statuses['200'] ?? 0) !== result.requests) throw new Error(`slot query bench saw ${JSON.stringify(result.statuses)}`);
      rows.push({
        section: 'scheduling',
        name: `slot query ${label}, p99 under load (8 clients)`,
        value: result.p99,
        unit: 'ms',
        ...(p99 !== undefined && { target: `≤ ${p99} ms`, pass: result.p99 <= p99 }),
        note: `${round(result.rps)} req/s, p50 ${result.p50} ms; ${fill}; ${constant}`,
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
  } finally {
    await uncached.stop();
  }

  // Reads of one day (any of 31) on four calendars, every 20th request a booking of a free slot there.
  const mixed = four(PROVIDERS.mixed);
  const book = bookingRequests('uncontended', mixed, BASE);
  let n = 0;
  const result = await load({
    url: service.url,
    connections: 8,
    durationSeconds: short,
    build: () =>
      ++n % 20 === 0
        ? { method: 'POST', path: '/appointments', body: book() }
        : { method: 'GET', path: `/providers/${mixed[n % 4]}/slots?date=${isoDate(BASE + Math.floor(Math.random() * BLOCK_DAYS) * DAY_MS)}&timeZone=Asia/Tokyo` },
  });
  const reads = latencyOf(result, '200');
  const writes = latencyOf(result, '201');
  if (reads.n + writes.n !== result.requests || result.errors > 0) throw new Error(`mixed slot bench saw ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
  rows.push({
    section: 'scheduling',
    name: 'slot query 1 day while 5% of requests book on the same calendars: p99 of the queries (8 clients)',
    value: reads.p99,
    unit: 'ms',
    target: '≤ 20 ms',
    pass: reads.p99 <= 20,
    note: `${round(reads.n / short)} queries/s, p50 ${reads.p50} ms; ${writes.n} bookings (${round(writes.n / short)}/s), p50 ${writes.p50} ms, p99 ${writes.p99} ms; 4 calendars × 31 days`,
  });

  rows.push(await staleness(opts));
  return rows;
}

/**
 * Books a slot on this instance and asks another instance (memo on, told of changes by LISTEN/NOTIFY)
 * for the slot's day until its answer no longer offers the slot; the time from the booking's reply to
 * that answer, over many bookings. Each round first asks the other instance once, so its answer is a
 * memo that has to be dropped.
 */
async function staleness(opts: SchedulingBenchOptions): Promise<BenchRow> {
  const rounds = opts.quick ? 20 : 60;
  const provider = benchProviderId(PROVIDERS.staleness);
  const day = BASE + 2 * DAY_MS;
  const other = await opts.startInstance({});
  const offers = async (startMs: number) => {
    const res = await fetch(`${other.url}/providers/${provider}/slots?date=${isoDate(day)}&timeZone=UTC`);
    if (res.status !== 200) throw new Error(`staleness: slot query answered ${res.status}`);
    const { slots } = (await res.json()) as { slots: { start: string }[] };
    return slots.some((s) => Date.parse(s.start) === startMs);
  };
  const delays: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const startMs = day + i * SLOT_MS;
      if (!(await offers(startMs))) throw new Error('staleness: the free slot is not offered before its booking');
      const res = await fetch(`${opts.service.url}/appointments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ providerId: provider, clientId: `stale-${i}`, start: new Date(startMs).toISOString(), client: { timeZone: 'UTC' } }),
      });
      if (res.status !== 201) throw new Error(`staleness: booking answered ${res.status}`);
      await res.arrayBuffer();
      const replied = performance.now();
      for (;;) {
        const stillOffered = await offers(startMs);
        if (!stillOffered) break;
        if (performance.now() - replied > 10_000) throw new Error('staleness: the other instance still offers a slot booked 10 s ago');
      }
      delays.push(performance.now() - replied);
    }
  } finally {
    await other.stop();
  }
  delays.sort((a, b) => a - b);
  const ms = (n: number) => round(n, 1);
  return {
    section: 'scheduling',
    name: `slot answer staleness on another instance after a booking, p99 (${rounds} bookings)`,
    value: ms(percentile(delays, 99)),
    unit: 'ms',
    note: `from the booking's reply on one instance to the first answer without the slot from another (memo on, LISTEN/NOTIFY); p50 ${ms(percentile(delays, 50))} ms, max ${ms(delays[delays.length - 1])} ms, each including one slot query's round trip`,
  };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
