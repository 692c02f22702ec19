import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { gatewayBenchEnv } from './gateway.bench';
import { BenchRow, freshDatabase, percentile, startService } from './lib';

/**
 * The overload row: 2,000 concurrent bookings (1,000 with --quick) through the gateway onto a scheduling
 * service with a deliberately small pool (2 connections, at most 4 waiting, 24 in flight), both as their
 * own processes, the load generated here. Target (the faults issue): every answer is 201, 409 or 503
 * OVERLOADED within 2 s. The test test/e2e/overload-storm.e2e.spec.ts asserts what the answers are and
 * that exactly the 201s exist; this row measures how fast they come.
 */
export async function benchOverload(opts: { baseDatabaseUrl: string; brokers: string; quick: boolean }): Promise<BenchRow[]> {
  const storm = opts.quick ? 1000 : 2000;
  const databaseUrl = await freshDatabase(opts.baseDatabaseUrl, 'booking_bench_overload');
  const env = { DATABASE_URL: databaseUrl, KAFKA_BROKERS: opts.brokers, KAFKA_NAMESPACE: `overload${Date.now().toString(36)}` };
  const scheduling = await startService('scheduling', { ...env, DB_POOL_MAX: '2', DB_POOL_MAX_WAITERS: '4', HTTP_MAX_IN_FLIGHT: '24', EVENT_LOOP_LAG_MAX_MS: '200' });
  const setup = gatewayBenchEnv(scheduling.url);
  const gateway = await startService('api-gateway', { ...env, ...setup.env, HTTP_MAX_IN_FLIGHT: '64', EVENT_LOOP_LAG_MAX_MS: '200', HTTP_LISTEN_BACKLOG: '4096' });
  try {
    const token = await setup.token();
    const day = ['00:00', '24:00'];
    const created = await fetch(`${gateway.url}/v1/providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Overload', timeZone: 'UTC', slotDurationMinutes: 30, workingHours: { MON: day, TUE: day, WED: day, THU: day, FRI: day, SAT: day, SUN: day }, bookingHorizonDays: 365 }),
    });
    if (created.status !== 201) throw new Error(`overload bench: provider not created (${created.status} ${await created.text()})`);
    const providerId = ((await created.json()) as { id: string }).id;
    const first = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 7);
    const slots = Array.from({ length: Math.ceil(storm / 5) }, (_, i) => new Date(first + i * 30 * 60_000).toISOString());
    const agent = new Agent({ connections: storm, pipelining: 0, connectTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
    const url = new URL('/v1/appointments', gateway.url);
    const send = async (i: number): Promise<{ status: number; code?: string; ms: number }> => {
      const began = performance.now();
      try {
        const response = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ providerId, clientId: `overload-${i}`, start: slots[i % slots.length], client: { timeZone: 'UTC' } }),
        });
        const body = (await response.body.json()) as { code?: string };
        return { status: response.statusCode, code: body.code, ms: performance.now() - began };
      } catch {
        return { status: 0, ms: performance.now() - began };
      }
    };
    let answers: { status: number; code?: string; ms: number }[];
    try {
      answers = await Promise.all(Array.from({ length: storm }, (_, i) => send(i)));
    } finally {
      await agent.close();
    }
    const tally: Record<string, number> = {};
    for (const a of answers) tally[`${a.status}${a.code ? ` ${a.code}` : ''}`] = (tally[`${a.status}${a.code ? ` ${a.code}` : ''}`] ?? 0) + 1;
    const expected = answers.filter((a) => a.status === 201 || a.status === 409 || (a.status === 503 && a.code === 'OVERLOADED'));
    const times = answers.map((a) => a.ms).sort((x, y) => x - y);
    const p99 = Math.round(percentile(times, 99));
    const max = Math.round(times[times.length - 1]);
    return [
      {
        section: 'overload',
        name: `${storm} concurrent bookings on a small pool: slowest answer`,
        value: max,
        unit: 'ms',
        target: '≤ 2000 ms, every answer 201, 409 or 503',
        pass: max <= 2000 && expected.length === answers.length,
        note: `p50 ${Math.round(percentile(times, 50))} ms, p99 ${p99} ms; answers ${JSON.stringify(tally)}`,
      },
    ];
  } finally {
    await Promise.all([gateway.stop(), scheduling.stop()]);
  }
}
