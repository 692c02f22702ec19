import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { BenchRow, RunningService } from './lib';

/*
 * The API gateway under load, against anchors measured in the same run:
 * - booking through the gateway (JWT verified, rate limit counted against reservations in Redis, body
 *   validated, scheduling called over keep-alive HTTP, reply validated) vs raw Postgres running the same booking transaction
 *   (pgbench, from the scheduling bench): target ≥ 0.5×;
 * - a one-day slot query through the gateway vs the gateway's own constant endpoint (/health/ping, the
 *   same Nest/Express stack): target ≥ 0.3×, p99 ≤ 20 ms.
 *
 * Wiring (bench/run.ts): start the gateway with `gatewayBenchEnv(scheduling.url)`'s env next to
 * scheduling, then `rows.push(...(await benchGateway({ gateway, token, quick, rawPostgresTps })))` with
 * rawPostgresTps = the pgbench anchor of the scheduling booking row; add the gateway to the services
 * whose peak RSS is reported.
 */

const DAY = 86_400_000;
const SLOT = 15 * 60_000;
/** Two weeks ahead at a UTC midnight: clear of the scheduling bench's week-ahead window. */
const BASE = Math.floor(Date.now() / DAY) * DAY + 14 * DAY;
const SLOTS = 30 * 96;
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
  rawPostgresTps?: number;
  /** When given, the same slot query is also measured straight against scheduling, to show the gateway's own share. */
  scheduling?: RunningService;
}): Promise<BenchRow[]> {
  const { gateway, quick } = opts;
  const seconds = quick ? 5 : 20;
  const token = await opts.token();
  const rows: BenchRow[] = [];
  const day = ['00:00', '24:00'];
  const providers: string[] = [];
  for (let i = 0; i < 4; i++) {
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

  const booking = await load(gateway.url, token, {
    connections: 16,
    seconds,
    method: 'POST',
    build: () => ({
      path: '/v1/appointments',
      body: JSON.stringify({
        providerId: providers[Math.floor(Math.random() * providers.length)],
        clientId: `bench-${randomUUID()}`,
        start: new Date(BASE + Math.floor(Math.random() * SLOTS) * SLOT).toISOString(),
        client: { timeZone: 'Asia/Tokyo' },
      }),
    }),
  });
  const served = (booking.statuses['201'] ?? 0) + (booking.statuses['409'] ?? 0);
  if (served !== booking.requests) throw new Error(`gateway booking bench saw unexpected statuses: ${JSON.stringify(booking.statuses)}`);
  const bookingRps = served / seconds;
  rows.push({
    section: 'gateway',
    name: 'booking transactions/s through the gateway (16 clients, 4 hot providers)',
    value: round(bookingRps),
    unit: 'tx/s',
    ...(opts.rawPostgresTps !== undefined && {
      anchorName: 'pgbench, same booking transaction',
      anchorValue: round(opts.rawPostgresTps),
      ratio: round(bookingRps / opts.rawPostgresTps, 2),
      pass: bookingRps / opts.rawPostgresTps >= 0.5,
    }),
    target: '≥ 0.5',
    note: `201: ${booking.statuses['201'] ?? 0}, 409: ${booking.statuses['409'] ?? 0}, p50 ${booking.p50} ms, p99 ${booking.p99} ms`,
  });

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
