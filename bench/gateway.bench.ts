import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { BookingWorkload, bookingRequests, WORKLOADS } from './booking-workload';
import { BenchRow, load as loadRecorded, RunningService } from './lib';
import { BookingAnchor, bookingRow, bookingSeconds, checkBookingLoad } from './scheduling.bench';

/*
 * The API gateway under load, against anchors measured in the same run:
 * - bookings through the gateway (JWT verified, rate limit counted against reservations in Redis, body
 *   validated, scheduling called over keep-alive HTTP, reply validated), successful ones per second, in
 *   the two workloads of bench/booking-workload.ts, vs the scheduling section's pgbench anchor of the same
 *   workload (the booking statement's semantics in raw Postgres, services paused): target ≥ 0.5×;
 * - a one-day slot query through the gateway vs the gateway's own constant endpoint (/health/ping, the
 *   same Nest/Fastify stack): target ≥ 0.3×, p99 ≤ 20 ms.
 */

const DAY = 86_400_000;
/** Two weeks ahead at a UTC midnight (the gateway's providers are its own). */
const BASE = Math.floor(Date.now() / DAY) * DAY + 14 * DAY;
const ISSUER = 'https://auth.bench.booking.example/';
const AUDIENCE = 'booking-api-bench';

/** The gateway's environment for a bench run (production mode needs explicit JWT settings) and a matching admin token. */
export function gatewayBenchEnv(schedulingUrl: string): { env: Record<string, string>; token: () => Promise<string> } {
  const secret = randomBytes(32).toString('hex');
  return {
    env: {
      SCHEDULING_URL: schedulingUrl,
      JWT_SECRET: secret,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      // The bench measures throughput, not the limiter's refusals. Every request is still counted: against
      // reservations the gateway takes from the caller's window in Redis (up to 100 at a time this far
      // below the limit; see the gateway README), so Redis sees a round trip every ~100 requests.
      RATE_LIMIT_PER_MINUTE: '10000000',
      RATE_LIMIT_KEY_PREFIX: `bench:${Date.now().toString(36)}`,
    },
    token: () =>
      new SignJWT({ roles: ['service'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`bench-${randomUUID()}`)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret)),
  };
}

type Load = { requests: number; rps: number; p50: number; p99: number; statuses: Record<string, number> };

async function load(url: string, token: string, options: { connections: number; seconds: number; method?: 'GET' | 'POST'; build?: () => { path: string; body?: string } }): Promise<Load> {
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: options.build ? [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...options.build!() }) }] : undefined,
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const result = await instance;
  return { requests: result.requests.total, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, statuses };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function benchGateway(opts: {
  gateway: RunningService;
  token: () => Promise<string>;
  quick: boolean;
  /** The pgbench anchors of the scheduling section (same run), one per workload. */
  anchors?: Record<BookingWorkload, BookingAnchor>;
  /** Waits until the platform has relayed and consumed every event so far. */
  drain: () => Promise<number>;
  /** When given, the same slot query is also measured straight against scheduling, to show the gateway's own share. */
  scheduling?: RunningService;
}): Promise<BenchRow[]> {
  const { gateway, quick } = opts;
  const seconds = bookingSeconds(quick);
  const token = await opts.token();
  const rows: BenchRow[] = [];
  const day = ['00:00', '24:00'];
  const providers: string[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await fetch(`${gateway.url}/v1/providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        name: `Gateway bench ${i}`,
        timeZone: 'UTC',
        slotDurationMinutes: 15,
        workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, day])),
        bookingHorizonDays: 730,
      }),
    });
    if (res.status !== 201) throw new Error(`creating a bench provider through the gateway: ${res.status} ${await res.text()}`);
    providers.push(((await res.json()) as { id: string }).id);
  }

  for (const workload of WORKLOADS) {
    await opts.drain();
    const next = bookingRequests(workload, workload === 'uncontended' ? providers.slice(0, 4) : providers.slice(4), BASE);
    const result = await loadRecorded({
      url: gateway.url,
      headers: { authorization: `Bearer ${token}` },
      connections: 16,
      durationSeconds: seconds,
      method: 'POST',
      build: () => ({ path: '/v1/appointments', body: next() }),
    });
    rows.push(bookingRow('gateway', 'through the gateway, 16 clients', checkBookingLoad(workload, result, seconds, 'gateway booking bench'), opts.anchors?.[workload], 0.5));
  }

  const short = quick ? 3 : 10;
  const ping = await load(gateway.url, token, { connections: 8, seconds: short, build: () => ({ path: '/health/ping' }) });
  const date = new Date(BASE + 4 * DAY).toISOString().slice(0, 10);
  const slots = await load(gateway.url, token, {
    connections: 8,
    seconds: short,
    build: () => ({ path: `/v1/providers/${providers[Math.floor(Math.random() * providers.length)]}/slots?date=${date}&timeZone=Asia/Tokyo` }),
  });
  if ((slots.statuses['200'] ?? 0) !== slots.requests) throw new Error(`gateway slot bench saw ${JSON.stringify(slots.statuses)}`);
  const direct = opts.scheduling
    ? await load(opts.scheduling.url, token, {
        connections: 8,
        seconds: short,
        build: () => ({ path: `/providers/${providers[Math.floor(Math.random() * providers.length)]}/slots?date=${date}&timeZone=Asia/Tokyo` }),
      })
    : undefined;
  rows.push({
    section: 'gateway',
    name: 'slot query 1 day through the gateway req/s (8 clients)',
    value: round(slots.rps),
    unit: 'req/s',
    anchorName: 'constant endpoint, same stack',
    anchorValue: round(ping.rps),
    ratio: round(slots.rps / ping.rps, 2),
    target: '≥ 0.3',
    pass: slots.rps / ping.rps >= 0.3,
    note: `p50 ${slots.p50} ms${direct ? `; straight to scheduling ${round(direct.rps)} req/s, p50 ${direct.p50} ms, p99 ${direct.p99} ms` : ''}`,
  });
  rows.push({
    section: 'gateway',
    name: 'slot query 1 day through the gateway, p99 under load',
    value: slots.p99,
    unit: 'ms',
    target: '≤ 20 ms',
    pass: slots.p99 <= 20,
    note: `the gateway's constant endpoint under the same load: p50 ${ping.p50} ms, p99 ${ping.p99} ms`,
  });
  return rows;
}
