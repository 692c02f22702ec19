import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import knexFactory, { Knex } from 'knex';
import { Agent, request } from 'undici';
import { TestEnvironment } from '@booking/platform/testing';
import { http, nextMondayUtc, RunningService, startService } from '../support/platform';

/**
 * Overload is answered, not timed out: a storm of 2,000 concurrent bookings (OVERLOAD_STORM) through the
 * gateway onto a scheduling service with a deliberately small pool (2 connections, at most 4 queries
 * waiting for one, 24 requests in flight). The gateway and scheduling run as their own processes, as in
 * production, so the load generator (this test's process) does not compete with the gateway's event
 * loop. Every answer must be 201, 409 (the slot was taken) or 503 OVERLOADED with Retry-After: never a
 * timeout, a reset or a 5xx of another kind; and the appointments that exist are exactly the ones
 * answered 201 (a refused booking never commits later).
 *
 * How fast the answers come (the issue's "within 2 s") is a speed target: measured by the bench's
 * `overload` section, not asserted here; this test prints its own p50/p99/max.
 */
const STORM = Number(process.env.OVERLOAD_STORM ?? 2000);
const ISSUER = 'https://auth.storm.test/';
const AUDIENCE = 'booking-api';

describe('a storm of bookings on a small pool (gateway and scheduling as processes)', () => {
  const env = new TestEnvironment();
  const secret = randomBytes(24).toString('hex');
  const services: RunningService[] = [];
  let gateway: RunningService;
  let knex: Knex;

  beforeAll(async () => {
    knex = knexFactory({ client: 'pg', connection: env.databaseUrl, pool: { min: 0, max: 2 } });
    const scheduling = await startService('scheduling', env, { DB_POOL_MAX: '2', DB_POOL_MAX_WAITERS: '4', HTTP_MAX_IN_FLIGHT: '24', EVENT_LOOP_LAG_MAX_MS: '200' });
    services.push(scheduling);
    gateway = await startService('api-gateway', env, {
      SCHEDULING_URL: scheduling.url,
      JWT_SECRET: secret,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      RATE_LIMIT_PER_MINUTE: '10000000',
      RATE_LIMIT_KEY_PREFIX: `storm:${env.id}`,
      HTTP_MAX_IN_FLIGHT: '64',
      EVENT_LOOP_LAG_MAX_MS: '200',
      HTTP_LISTEN_BACKLOG: '4096',
      LOG_LEVEL: 'warn',
    });
    services.push(gateway);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await knex?.destroy();
    await env.destroy();
  });

  it(`answers ${STORM} concurrent bookings with 201, 409 or 503 OVERLOADED, never a timeout or reset, and only the 201s exist`, async () => {
    const admin = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('storm-admin')
      .setIssuedAt()
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('30m')
      .sign(new TextEncoder().encode(secret));
    const day = ['00:00', '24:00'];
    const provider = await http(
      'POST',
      `${gateway.url}/v1/providers`,
      {
        name: 'Dr. Storm',
        timeZone: 'Asia/Tokyo',
        slotDurationMinutes: 30,
        workingHours: { MON: day, TUE: day, WED: day, THU: day, FRI: day, SAT: day, SUN: day },
        bookingHorizonDays: 365,
      },
      { authorization: `Bearer ${admin}` },
    );
    expect(provider.status).toBe(201);
    const providerId = provider.body.id as string;

    // Five bookings for each slot, so that slots are contested too.
    const first = nextMondayUtc(2).getTime();
    const slots = Array.from({ length: Math.ceil(STORM / 5) }, (_, i) => new Date(first + i * 30 * 60_000).toISOString());
    const agent = new Agent({ connections: STORM, pipelining: 0, connectTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
    const url = new URL('/v1/appointments', gateway.url);
    type Answer = { status: number; code?: string; retryAfter?: string; id?: string; ms: number; error?: string };
    const send = async (i: number): Promise<Answer> => {
      const started = performance.now();
      try {
        const response = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
          body: JSON.stringify({ providerId, clientId: `storm-${i}`, start: slots[i % slots.length], client: { timeZone: 'Asia/Tokyo' } }),
        });
        const body = (await response.body.json()) as { id?: string; code?: string };
        const retryAfter = response.headers['retry-after'];
        return { status: response.statusCode, code: body.code, id: body.id, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, ms: performance.now() - started };
      } catch (error) {
        return { status: 0, error: String(error), ms: performance.now() - started };
      }
    };
    let answers: Answer[];
    try {
      answers = await Promise.all(Array.from({ length: STORM }, (_, i) => send(i)));
    } finally {
      await agent.close();
    }

    const tally: Record<string, number> = {};
    for (const a of answers) tally[`${a.status} ${a.code ?? ''}`.trim()] = (tally[`${a.status} ${a.code ?? ''}`.trim()] ?? 0) + 1;
    const times = answers.map((a) => a.ms).sort((x, y) => x - y);
    const summary = { storm: STORM, tally, p50: Math.round(times[Math.floor(times.length / 2)]), p99: Math.round(times[Math.floor(times.length * 0.99)]), max: Math.round(times[times.length - 1]) };
    process.stdout.write(`overload storm: ${JSON.stringify(summary)}\n`);

    const unexpected = answers.filter((a) => !(a.status === 201 || a.status === 409 || (a.status === 503 && a.code === 'OVERLOADED' && a.retryAfter !== undefined)));
    expect({ unexpected: unexpected.slice(0, 5), count: unexpected.length }).toEqual({ unexpected: [], count: 0 });
    // Some got through and some were refused, or the test proved nothing about overload.
    expect(tally['201']).toBeGreaterThan(0);
    expect(tally['503 OVERLOADED']).toBeGreaterThan(0);

    // Exactly the 201s exist: every request was answered and none timed out, so none is still running.
    const booked = answers.filter((a) => a.status === 201).map((a) => a.id).sort();
    const stored = (await knex.raw(`SELECT id FROM scheduling.appointments WHERE client_id LIKE 'storm-%'`)).rows.map((r: { id: string }) => String(r.id)).sort();
    expect(stored).toEqual(booked);
  }, 300_000);
});
