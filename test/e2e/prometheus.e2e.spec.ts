import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { SMTPServer } from 'smtp-server';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { http, nextMondayUtc, RunningService, ServiceName, startService } from '../support/platform';

const BOOKINGS = 12;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function prometheusBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('prometheus is not installed: scripts/test.sh installs it (apt-get install prometheus)');
  }
}

type Sample = { metric: Record<string, string>; value: [number, string] };

/**
 * All five services run as processes and the real Prometheus server scrapes their /metrics every
 * second while bookings flow through the gateway; every assertion goes through Prometheus's HTTP
 * query API, as a dashboard or an alert would read it.
 */
describe('metrics scraped by a real Prometheus server', () => {
  const env = new TestEnvironment();
  const secret = 'prometheus-e2e-test-secret-0123456789abcdef';
  const issuer = 'https://auth.test/';
  const audience = 'booking-api';
  const services: RunningService[] = [];
  const byName = {} as Record<ServiceName, RunningService>;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl = '';
  let prometheusLog = '';
  let dataDir = '';
  let smtp: SMTPServer;

  const query = async (promql: string): Promise<Sample[]> => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data: { result: Sample[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    return body.data.result;
  };
  const scalar = async (promql: string): Promise<number | undefined> => {
    const result = await query(promql);
    return result.length ? Number(result[0].value[1]) : undefined;
  };

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        stream.on('data', () => undefined);
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;

    const scheduling = await startService('scheduling', env, { OUTBOX_POLL_INTERVAL_MS: '100' });
    const started = await Promise.all([
      startService('payment', env, { PAYMENT_PROVIDER_LATENCY_MS: '0', OUTBOX_POLL_INTERVAL_MS: '100' }),
      startService('notification', env, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'bookings@clinic.test', OUTBOX_POLL_INTERVAL_MS: '100' }),
      startService('reminder', env, { OUTBOX_POLL_INTERVAL_MS: '100' }),
      startService('api-gateway', env, { SCHEDULING_URL: scheduling.url, JWT_SECRET: secret, JWT_ISSUER: issuer, JWT_AUDIENCE: audience, RATE_LIMIT_KEY_PREFIX: `prom:${env.id}` }),
    ]);
    services.push(scheduling, ...started);
    for (const service of services) byName[service.name] = service;

    dataDir = mkdtempSync(join(tmpdir(), 'booking-prometheus-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      'scrape_configs:',
      ...services.flatMap((s) => [`  - job_name: ${s.name}`, '    static_configs:', `      - targets: ['127.0.0.1:${s.port}']`]),
    ].join('\n');
    writeFileSync(join(dataDir, 'prometheus.yml'), config);
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(prometheusBinary(), [`--config.file=${join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-10_000));
    prometheus.stdout!.on('data', keep);
    prometheus.stderr!.on('data', keep);
    await eventually(async () => (await fetch(`${prometheusUrl}/-/ready`)).ok, 60_000, `Prometheus ready\n${prometheusLog}`);
    // Every service scraped successfully at least once.
    await eventually(async () => (await scalar('sum(up)')) === services.length, 60_000, 'all five targets up');
  }, 240_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all(services.map((s) => s.stop()));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await env.destroy();
  });

  it('counts every booking exactly once, and consumer lag and the outbox drain to nothing', async () => {
    const sign = (claims: Record<string, unknown>, sub: string) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(issuer).setAudience(audience).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    const admin = { authorization: `Bearer ${await sign({ roles: ['admin'] }, 'ops')}` };
    const gateway = byName['api-gateway'].url;

    const before = await scalar('sum(bookings_created_total)');
    expect(before).toBe(0);
    const provider = await http(
      'POST',
      `${gateway}/v1/providers`,
      {
        name: 'Dr. Metrics',
        timeZone: 'UTC',
        slotDurationMinutes: 30,
        workingHours: { MON: ['08:00', '18:00'] },
        bookingHorizonDays: 120,
        price: { amountMinor: 5000, currency: 'USD' },
        contact: { email: 'metrics@clinic.test' },
      },
      { ...admin, 'idempotency-key': `provider-${env.id}` },
    );
    expect(provider.status).toBe(201);
    const monday = nextMondayUtc(2).getTime();
    const book = (i: number, key: string) =>
      http(
        'POST',
        `${gateway}/v1/appointments`,
        { providerId: provider.body.id, clientId: `client-${i}`, start: new Date(monday + 8 * 3_600_000 + i * 1_800_000).toISOString(), client: { timeZone: 'UTC', email: `c${i}@example.test` }, paymentMethod: 'tok_success' },
        { ...admin, 'idempotency-key': key },
      );
    const booked = await Promise.all(Array.from({ length: BOOKINGS }, (_, i) => book(i, `book-${env.id}-${i}`)));
    expect(booked.map((b) => b.status)).toEqual(Array(BOOKINGS).fill(201));
    // A replay is no new booking; a taken slot is a refusal, counted by its problem code.
    expect((await book(0, `book-${env.id}-0`)).status).toBe(201);
    expect((await book(0, `book-${env.id}-again`)).status).toBe(409);

    await eventually(async () => (await scalar('sum(bookings_created_total)')) === BOOKINGS, 30_000, `bookings_created_total = ${BOOKINGS}`);
    await eventually(async () => (await scalar('sum(bookings_refused_total{code="SLOT_UNAVAILABLE"})')) === 1, 30_000, 'one SLOT_UNAVAILABLE refusal');

    // Every booking paid and confirmed: the saga crossed every topic.
    await eventually(async () => (await scalar('sum(payments_total{outcome="SUCCEEDED"})')) === BOOKINGS, 60_000, 'every payment succeeded');
    await eventually(async () => (await scalar('sum(notifications_total{channel="EMAIL",outcome="sent"})')) === 2 * BOOKINGS, 60_000, 'two emails per booking');
    expect(await scalar('sum(kafka_consumer_messages_total{outcome="handled"})')).toBeGreaterThanOrEqual(4 * BOOKINGS);
    expect(await scalar('sum(kafka_consumer_messages_total{outcome="dead_lettered"}) or vector(0)')).toBe(0);

    // Each service's consumer group is a member, and all of them catch up to the log end.
    const groups = await eventually(async () => {
      const up = await query('kafka_consumer_up');
      return up.length === 4 && up.every((s) => s.value[1] === '1') ? up.map((s) => s.metric.group).sort() : undefined;
    }, 30_000, 'four consumer groups up');
    expect(groups).toEqual(['notification', 'payment', 'reminder', 'scheduling'].map((g) => `${env.namespace}.${g}`));
    await eventually(async () => {
      const lag = await query('sum by (group) (kafka_consumer_lag)');
      return lag.length === 4 && lag.every((s) => s.value[1] === '0');
    }, 60_000, 'consumer lag back to 0 for every group');

    // The outbox of every service drains: the oldest unsent row is under a second old. The gateway
    // uses no Kafka and relays nothing, so it reports neither.
    const relaying = services.filter((s) => s.name !== 'api-gateway').length;
    await eventually(async () => {
      const age = await query('outbox_oldest_row_age_seconds');
      return age.length === relaying && age.every((s) => Number(s.value[1]) < 1);
    }, 30_000, 'oldest outbox row under a second everywhere');
    expect(await scalar('sum(outbox_relay_lock_held)')).toBe(relaying);
    expect(await query('outbox_relay_lock_held{service="api-gateway"}')).toEqual([]);

    // HTTP durations by route template: the gateway's booking route, never an id in a label.
    expect(await scalar(`sum(http_request_duration_seconds_count{job="api-gateway",method="POST",route="/v1/appointments",status_class="2xx"})`)).toBe(BOOKINGS + 1);
    expect(await query('http_request_duration_seconds_count{route=~".*[0-9a-f]{8}-[0-9a-f]{4}-.*"}')).toEqual([]);
    expect(await scalar('sum(reminders_due_backlog)')).toBe(0);
    expect(await scalar('sum(pg_pool_connections{job="scheduling",state="waiting"})')).toBe(0);
    expect(await scalar('max(nodejs_eventloop_lag_seconds)')).toBeGreaterThanOrEqual(0);

    // Every query of the Grafana dashboard is one Prometheus accepts, and the booking flow's panels have data.
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'infra', 'observability', 'grafana', 'booking-flow.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(15);
    for (const expr of exprs) await query(expr);
    expect((await query('sum(rate(bookings_created_total[5m]))')).length).toBe(1);
    expect((await query('sum by (group) (kafka_consumer_up)')).length).toBe(4);
  }, 240_000);

  it('answers or refuses a scrape cleanly while a service shuts down', async () => {
    const payment = byName.payment;
    const answers: string[] = [];
    let keepScraping = true;
    const scrape = async () => {
      while (keepScraping) {
        try {
          const response = await fetch(`${payment.url}/metrics`);
          const text = await response.text();
          // Fastify answers a request that arrives on an open connection while the server closes with a 503.
          answers.push(response.status === 200 && text.includes('# TYPE') ? 'ok' : response.status === 503 ? 'refused' : `${response.status} ${text}`);
        } catch (error) {
          const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (error as Error).message;
          answers.push(code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'refused' : `error ${code}`);
          if (code === 'ECONNREFUSED') break;
        }
      }
    };
    const scraping = Promise.all([scrape(), scrape()]);
    await eventually(async () => answers.includes('ok'), 10_000, 'a scrape before the stop');
    await payment.stop();
    keepScraping = false;
    await scraping;
    expect(answers.filter((a) => a !== 'ok' && a !== 'refused')).toEqual([]);
    expect(answers).toContain('refused');
  }, 60_000);
});
