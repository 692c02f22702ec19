import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import knexFactory, { Knex } from 'knex';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { freePort, http, nextMondayUtc, RunningService, startService } from '../support/platform';

const ROOT = path.join(__dirname, '..', '..');
const run = promisify(execFile);

/** A probe that answers, and how long it took (every probe answers from state at hand). */
async function probe(url: string): Promise<{ status: number; body: any; ms: number }> {
  const began = Date.now();
  const response = await fetch(url);
  const body = await response.json();
  return { status: response.status, body, ms: Date.now() - began };
}

/** Log lines (pino JSON) of a service's output whose message matches. */
function lines(service: RunningService, message: RegExp): { msg: string; [field: string]: unknown }[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return undefined;
      }
    })
    .filter((entry) => entry && message.test(entry.msg));
}

const SHUTDOWN_STEPS = [
  /^shutdown: readiness answers 503/,
  /^shutdown: drain over/,
  /^shutdown: HTTP closed/,
  /^shutdown: consumers stopped/,
  /^shutdown: relay, listener, producer and pools closed/,
  /^shutdown: done/,
];

/**
 * An instance's life as an operator sees it, on a private broker this test starts and stops: services
 * start and serve while the broker is down (bookings wait in the outbox), the saga finishes once it is
 * up; a scheduling killed with SIGKILL listens again before its consumer group has settled; and SIGTERM
 * stops an instance in logged steps, within SHUTDOWN_TIMEOUT_MS, also with the broker gone.
 */
describe('instance lifecycle: start without Kafka, restart after a crash, graceful shutdown', () => {
  const env = new TestEnvironment();
  const dataDir = path.join(ROOT, 'tmp', `kafka-lifecycle-${process.pid}`);
  let brokerEnv: Record<string, string>;
  let kafkaEnv: NodeJS.ProcessEnv;
  const running: RunningService[] = [];
  let knex: Knex;
  let providerId: string;
  const monday = nextMondayUtc(2).getTime();
  let nextSlot = 0;
  const slot = () => new Date(monday + 9 * 3_600_000 + nextSlot++ * 30 * 60_000).toISOString();

  const kafka = (command: 'start' | 'stop') => run('bash', [path.join(ROOT, 'infra', 'kafka', 'kafka.sh'), command], { env: kafkaEnv, timeout: 200_000 });
  const start = async (...args: Parameters<typeof startService>) => {
    const service = await startService(...args);
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    const [port, controllerPort] = [await freePort(), await freePort()];
    brokerEnv = { KAFKA_BROKERS: `127.0.0.1:${port}`, LOG_LEVEL: 'info', OUTBOX_POLL_INTERVAL_MS: '200' };
    kafkaEnv = { ...process.env, KAFKA_BROKERS: '', KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_DATA_DIR: dataDir };
    knex = knexFactory({ client: 'pg', connection: env.databaseUrl, pool: { min: 0, max: 2 } });
  });

  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
    await kafka('stop').catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    await knex?.destroy();
    await env.destroy();
  });

  let scheduling: RunningService;
  let payment: RunningService;

  it('starts and serves without the broker; once the broker is up the booking is paid and confirmed', async () => {
    // Nothing listens at KAFKA_BROKERS yet.
    [scheduling, payment] = await Promise.all([
      start('scheduling', env, brokerEnv, { waitFor: 'ready' }),
      start('payment', env, { ...brokerEnv, PAYMENT_PROVIDER_LATENCY_MS: '0', SHUTDOWN_TIMEOUT_MS: '6000' }, { waitFor: 'live' }),
    ]);
    const gateway = await start('api-gateway', env, {
      SCHEDULING_URL: scheduling.url,
      JWT_SECRET: randomBytes(24).toString('hex'),
      JWT_ISSUER: 'https://auth.test/',
      JWT_AUDIENCE: 'booking-api',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}` });

    // Scheduling is ready and says Kafka is degraded; payment, which exists to consume, is not ready
    // and names Kafka; the gateway, which uses no Kafka, is ready. Each probe answers at once.
    const schedulingReady = await probe(`${scheduling.url}/health/ready`);
    expect(schedulingReady.status).toBe(200);
    expect(schedulingReady.body.status).toBe('degraded');
    expect(schedulingReady.body.details.kafka).toMatchObject({ status: 'degraded', message: expect.stringMatching(/^not connected: /) });
    const paymentReady = await probe(`${payment.url}/health/ready`);
    expect(paymentReady.status).toBe(503);
    expect(Object.keys(paymentReady.body.error)).toEqual(['kafka']);
    expect(paymentReady.body.detail).toMatch(/^not ready: kafka \(not connected: /);
    const gatewayReady = await probe(`${gateway.url}/health/ready`);
    expect(gatewayReady.status).toBe(200);
    expect(gatewayReady.body.details.kafka).toBeUndefined();
    for (const service of [scheduling, payment, gateway]) {
      for (const path of ['live', 'started', 'ready']) expect((await probe(`${service.url}/health/${path}`)).ms).toBeLessThan(1000);
    }
    await eventually(async () => lines(scheduling, /^Kafka degraded: /).length > 0, 5_000, 'the outage logged');
    expect(lines(scheduling, /^Kafka degraded: /)).toHaveLength(1);

    const created = await http('POST', `${scheduling.url}/providers`, {
      name: 'Open while the broker is away',
      timeZone: 'UTC',
      slotDurationMinutes: 30,
      workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
      bookingHorizonDays: 60,
      price: { amountMinor: 4000, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    providerId = created.body.id;
    const booked = await http('POST', `${scheduling.url}/appointments`, { providerId, clientId: 'c-1', start: slot(), client: { timeZone: 'UTC' }, paymentMethod: 'tok_success' });
    expect(booked.status).toBe(201);
    expect(booked.body.status).toBe('PENDING');
    const { rows: waiting } = await knex.raw('SELECT count(*)::int AS n FROM scheduling.outbox');
    expect(waiting[0].n).toBeGreaterThan(0);

    await kafka('start');
    const confirmed = await eventually(async () => {
      const a = (await http('GET', `${scheduling.url}/appointments/${booked.body.id}`)).body;
      return a.status === 'CONFIRMED' ? a : undefined;
    }, 90_000, 'the booking to be confirmed once the broker is up');
    expect(confirmed.paidMinor).toBe(4000);
    const { rows: charges } = await knex.raw(`SELECT status, amount_minor::int AS amount_minor FROM payment.payments WHERE appointment_id = ?`, [booked.body.id]);
    expect(charges).toEqual([{ status: 'SUCCEEDED', amount_minor: 4000 }]);
    await eventually(async () => (await probe(`${payment.url}/health/ready`)).status === 200, 30_000, 'payment ready');
    await eventually(async () => (await probe(`${scheduling.url}/health/ready`)).body.status === 'ok', 30_000, 'scheduling fully up');
    // The state is logged at the next watch tick (every second) after it changed.
    await eventually(async () => lines(scheduling, /^Kafka is up again$/).length > 0, 5_000, 'the recovery logged');
    expect(lines(scheduling, /^Kafka is up again$/)).toHaveLength(1);
    await eventually(async () => (await knex.raw('SELECT count(*)::int AS n FROM scheduling.outbox')).rows[0].n === 0, 20_000, 'the outbox drained');
  }, 240_000);

  it('listens again after a SIGKILL before its consumer group has settled', async () => {
    // A long session: the dead member holds the group for 30 s, so the restarted instance is still
    // joining when it must already serve.
    const settings = { ...brokerEnv, KAFKA_SESSION_TIMEOUT_MS: '30000' };
    await scheduling.stop('SIGTERM');
    scheduling = await start('scheduling', env, settings);
    await eventually(async () => (await probe(`${scheduling.url}/health/ready`)).body.status === 'ok', 60_000, 'scheduling in its group');
    await scheduling.stop('SIGKILL');
    const began = Date.now();
    scheduling = await start('scheduling', env, settings, { port: scheduling.port, waitFor: 'live' });
    const listeningAfterMs = Date.now() - began;
    const ready = await probe(`${scheduling.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.details.kafka.status).toBe('degraded');
    const booked = await http('POST', `${scheduling.url}/appointments`, { providerId, clientId: 'c-2', start: slot(), client: { timeZone: 'UTC' } });
    expect(booked.status).toBe(201);
    // Served before the group settled: the consumer joins in the background.
    expect((await probe(`${scheduling.url}/health/ready`)).body.details.kafka.status).toBe('degraded');
    const [listening] = lines(scheduling, /^scheduling listening$/);
    process.stdout.write(`after a SIGKILL, the restarted scheduling listened ${String(listening.sinceProcessStartMs)} ms after its process started (${listeningAfterMs} ms until this test saw it live)\n`);
    await eventually(async () => (await probe(`${scheduling.url}/health/ready`)).body.status === 'ok', 60_000, 'the consumer back in its group');
  }, 180_000);

  it('shuts down in logged steps on SIGTERM: not ready at once, serving through the drain, then closed', async () => {
    const settings = { ...brokerEnv, SHUTDOWN_DRAIN_MS: '1500', SHUTDOWN_TIMEOUT_MS: '15000' };
    await scheduling.stop('SIGTERM');
    scheduling = await start('scheduling', env, settings);
    await eventually(async () => (await probe(`${scheduling.url}/health/ready`)).body.status === 'ok', 60_000, 'scheduling in its group');
    const exited = new Promise<number | null>((resolve) => scheduling.child.once('exit', (code) => resolve(code)));
    const began = Date.now();
    scheduling.child.kill('SIGTERM');
    const draining = await eventually(async () => {
      const ready = await probe(`${scheduling.url}/health/ready`);
      return ready.status === 503 ? ready : undefined;
    }, 1000, 'readiness 503');
    expect(draining.body.error).toEqual({ shutdown: { status: 'down', message: 'shutting down' } });
    expect(draining.body.detail).toBe('not ready: shutdown (shutting down)');
    // Still serving while load balancers take it out.
    expect((await http('GET', `${scheduling.url}/providers/${providerId}`)).status).toBe(200);
    expect(await exited).toBe(0);
    expect(Date.now() - began).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - began).toBeLessThan(15_000);
    for (const step of SHUTDOWN_STEPS) expect(lines(scheduling, step)).toHaveLength(1);
    const times = SHUTDOWN_STEPS.map((step) => Date.parse(String(lines(scheduling, step)[0].time)));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 180_000);

  it('stops within SHUTDOWN_TIMEOUT_MS with the broker gone', async () => {
    await eventually(async () => (await probe(`${payment.url}/health/ready`)).status === 200, 30_000, 'payment ready');
    await kafka('stop');
    const exited = new Promise<number | null>((resolve) => payment.child.once('exit', (code) => resolve(code)));
    const began = Date.now();
    payment.child.kill('SIGTERM');
    const code = await exited;
    const tookMs = Date.now() - began;
    process.stdout.write(`payment stopped in ${tookMs} ms with the broker gone (SHUTDOWN_TIMEOUT_MS 6000)\n`);
    expect(tookMs).toBeLessThan(6000 + 2000);
    expect(code).toBe(0);
    expect(lines(payment, /^shutdown: relay, listener, producer and pools closed$/)).toHaveLength(1);
    expect(lines(payment, /^shutdown: done$/)).toHaveLength(1);
  }, 120_000);
});
