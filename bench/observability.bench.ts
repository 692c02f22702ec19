import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { gatewayBenchEnv } from './gateway.bench';
import autocannon from 'autocannon';
import { BenchRow, freshDatabase, RunningService, startService } from './lib';

/*
 * What observability costs: booking throughput through the gateway (gateway → scheduling, 16 clients)
 * with tracing on — every span exported over OTLP/HTTP to a local receiver — and both services'
 * /metrics scraped every second, against the same stack with tracing off and nobody scraping, in the
 * same run. The two stacks run one after the other on fresh databases, twice each, alternating (off,
 * on, off, on), so that a drift of the machine during the run falls on both. Target ≥ 0.9.
 */

const DAY = 86_400_000;
const SLOT = 15 * 60_000;
const BASE = Math.floor(Date.now() / DAY) * DAY + 21 * DAY;
const SLOTS = 30 * 96;

/** Bookings through the gateway for `seconds`: how many were answered 201 or 409, and anything else. */
async function bookings(url: string, token: string, seconds: number, body: () => string): Promise<{ served: number; other: string }> {
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url,
    connections: 16,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: '/v1/appointments', body: body() }) }],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const result = await instance;
  const served = (statuses['201'] ?? 0) + (statuses['409'] ?? 0);
  const other = served === result.requests.total && result.errors + result.timeouts === 0 ? '' : `${JSON.stringify(statuses)}, ${result.errors} errors, ${result.timeouts} timeouts`;
  return { served, other };
}

/** An OTLP/HTTP receiver that takes every export and counts the bytes (decoding would load the bench, not the services). */
async function otlpSink(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function bookingRun(opts: { baseUrl: string; brokers: string; seconds: number; observed?: { otlpUrl: string } }): Promise<number> {
  const databaseUrl = await freshDatabase(opts.baseUrl, `booking_bench_obs_${opts.observed ? 'on' : 'off'}`);
  const env: Record<string, string> = { DATABASE_URL: databaseUrl, KAFKA_BROKERS: opts.brokers, KAFKA_NAMESPACE: `benchobs${Date.now().toString(36)}` };
  const otel: Record<string, string> = opts.observed ? { OTEL_EXPORTER_OTLP_ENDPOINT: opts.observed.otlpUrl } : {};
  const services: RunningService[] = [];
  let scraper: NodeJS.Timeout | undefined;
  try {
    const scheduling = await startService('scheduling', { ...env, ...otel });
    services.push(scheduling);
    const setup = gatewayBenchEnv(scheduling.url);
    const gateway = await startService('api-gateway', { ...env, ...setup.env, ...otel });
    services.push(gateway);
    const token = await setup.token();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const providers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gateway.url}/v1/providers`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: `Observability bench ${i}`,
          timeZone: 'UTC',
          slotDurationMinutes: 15,
          workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
          bookingHorizonDays: 730,
        }),
      });
      if (res.status !== 201) throw new Error(`creating a bench provider: ${res.status} ${await res.text()}`);
      providers.push(((await res.json()) as { id: string }).id);
    }
    if (opts.observed) {
      // What a Prometheus server would do: scrape both services every second.
      scraper = setInterval(() => {
        for (const s of services) void fetch(`${s.url}/metrics`).then((r) => r.text()).catch(() => undefined);
      }, 1000);
    }
    const { served, other } = await bookings(gateway.url, token, opts.seconds, () =>
      JSON.stringify({
        providerId: providers[Math.floor(Math.random() * providers.length)],
        clientId: `bench-${randomUUID()}`,
        start: new Date(BASE + Math.floor(Math.random() * SLOTS) * SLOT).toISOString(),
        client: { timeZone: 'Asia/Tokyo' },
      }),
    );
    if (other) throw new Error(`observability bench saw unexpected answers: ${other}`);
    return served / opts.seconds;
  } finally {
    clearInterval(scraper);
    await Promise.all(services.map((s) => s.stop()));
  }
}

export async function benchObservability(opts: { baseDatabaseUrl: string; brokers: string; quick: boolean }): Promise<BenchRow[]> {
  const seconds = opts.quick ? 5 : 15;
  const sink = await otlpSink();
  try {
    const off: number[] = [];
    const on: number[] = [];
    for (let round = 0; round < 2; round++) {
      off.push(await bookingRun({ baseUrl: opts.baseDatabaseUrl, brokers: opts.brokers, seconds }));
      on.push(await bookingRun({ baseUrl: opts.baseDatabaseUrl, brokers: opts.brokers, seconds, observed: { otlpUrl: sink.url } }));
    }
    if (sink.received() === 0) throw new Error('the OTLP receiver got no spans: tracing was not on');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(on) / mean(off);
    return [
      {
        section: 'observability',
        name: 'booking tx/s through the gateway, tracing exported over OTLP + /metrics scraped every second',
        value: Math.round(mean(on) * 10) / 10,
        unit: 'tx/s',
        anchorName: 'same stack, tracing off, not scraped',
        anchorValue: Math.round(mean(off) * 10) / 10,
        ratio: Math.round(ratio * 100) / 100,
        target: '≥ 0.9',
        pass: ratio >= 0.9,
        note: `runs off ${off.map((x) => Math.round(x)).join(', ')} / on ${on.map((x) => Math.round(x)).join(', ')} tx/s; ${Math.round(sink.received() / 1024)} KiB of OTLP received`,
      },
    ];
  } finally {
    await sink.close();
  }
}
