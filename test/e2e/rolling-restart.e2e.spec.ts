import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import knexFactory, { Knex } from 'knex';
import { SMTPServer } from 'smtp-server';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { startFront, Front } from '../support/front';
import { http, nextMondayUtc, RunningService, ServiceName, startService } from '../support/platform';

/**
 * A rolling restart as an SRE runs one: two instances of every service on the run's broker, each behind
 * a front that stands for the load balancer (clients reach the gateways through one, the gateways reach
 * the two scheduling instances through another). Paid bookings flow at a steady rate while every
 * instance in turn gets SIGTERM and is started again once it has exited. A client retries a booking
 * with the same Idempotency-Key when it gets no answer or a 502/503/504, as the README tells clients to.
 *
 * Afterwards: every booking is answered 201 and ends CONFIRMED exactly once, with exactly one charge,
 * exactly one mail and one SMS to each party at the receivers (not only in the delivery log), exactly
 * one reminder plan, and every outbox empty.
 */
const RATE_PER_SECOND = 2;
/** Enough to cover every restart on a quick machine, and bounded on a slow one (each booking sends four messages). */
const MAX_BOOKINGS = 400;
const ISSUER = 'https://auth.rolling.test/';
const AUDIENCE = 'booking-api';
const ORDER: ServiceName[] = ['scheduling', 'payment', 'notification', 'reminder', 'api-gateway'];

function recipientOf(mail: string): string {
  return /^To: (?:.*<)?([^>\r\n]+)>?\r?$/m.exec(mail)?.[1]?.trim() ?? '';
}

describe('rolling restart of two instances of every service while paid bookings flow', () => {
  const env = new TestEnvironment();
  const secret = randomBytes(24).toString('hex');
  const instances = new Map<ServiceName, RunningService[]>();
  const fronts: Front[] = [];
  let knex: Knex;
  let smtp: SMTPServer;
  let twilio: Server;
  const mails: string[] = [];
  const sms: Record<string, string>[] = [];
  let gatewayFront: Front;
  let settings: Record<ServiceName, Record<string, string>>;

  const start = (name: ServiceName, port?: number) =>
    startService(name, env, { ...settings[name], SHUTDOWN_DRAIN_MS: '500', OUTBOX_POLL_INTERVAL_MS: '200', KAFKA_SESSION_TIMEOUT_MS: '10000' }, { port });

  beforeAll(async () => {
    knex = knexFactory({ client: 'pg', connection: env.databaseUrl, pool: { min: 0, max: 2 } });
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        let data = '';
        stream.on('data', (chunk) => (data += chunk));
        stream.on('end', () => {
          mails.push(data);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    twilio = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        sms.push(form);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sid: `SM${String(sms.length).padStart(32, '0')}`, status: 'queued', to: form.To, from: form.From, body: form.Body }));
      });
    });
    await new Promise<void>((resolve) => twilio.listen(0, '127.0.0.1', resolve));

    settings = {
      scheduling: {},
      payment: { PAYMENT_PROVIDER_LATENCY_MS: '0' },
      notification: {
        SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
        MAIL_FROM: 'bookings@rolling.test',
        TWILIO_API_BASE_URL: `http://127.0.0.1:${(twilio.address() as AddressInfo).port}`,
        TWILIO_FROM: '+15005550006',
      },
      reminder: {},
      'api-gateway': {},
    };
    // Scheduling first (the gateways need its front), then the rest together.
    instances.set('scheduling', await Promise.all([start('scheduling'), start('scheduling')]));
    const schedulingFront = await startFront(instances.get('scheduling')!.map((s) => s.url));
    fronts.push(schedulingFront);
    settings['api-gateway'] = {
      SCHEDULING_URL: schedulingFront.url,
      JWT_SECRET: secret,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_KEY_PREFIX: `rolling:${env.id}`,
    };
    for (const name of ORDER.slice(1)) {
      const began = Date.now();
      instances.set(name, await Promise.all([start(name), start(name)]));
      process.stdout.write(`rolling restart: two ${name} instances ready in ${Date.now() - began} ms\n`);
    }
    gatewayFront = await startFront(instances.get('api-gateway')!.map((s) => s.url));
    fronts.push(gatewayFront);
  }, 600_000);

  afterAll(async () => {
    await Promise.all([...instances.values()].flat().map((s) => s.stop('SIGKILL')));
    await Promise.all(fronts.map((f) => f.close()));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise((resolve) => twilio?.close(resolve));
    await knex?.destroy();
    await env.destroy();
  });

  it('answers every booking, confirms each exactly once, charges and notifies once, and leaves every outbox empty', async () => {
    const admin = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('rolling-admin')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    const auth = { authorization: `Bearer ${admin}` };
    const day = ['00:00', '24:00'];
    const provider = await http(
      'POST',
      `${gatewayFront.url}/v1/providers`,
      {
        name: 'Dr. Rolling',
        timeZone: 'Europe/Berlin',
        slotDurationMinutes: 30,
        workingHours: { MON: day, TUE: day, WED: day, THU: day, FRI: day, SAT: day, SUN: day },
        bookingHorizonDays: 365,
        price: { amountMinor: 5000, currency: 'EUR' },
        contact: { email: 'rolling@clinic.test', phone: '+4930123456' },
      },
      { ...auth, 'idempotency-key': `provider-${env.id}` },
    );
    expect(provider.status).toBe(201);
    const providerId = provider.body.id as string;

    // The client side: one booking every 1/RATE s until the restarts are over, each retried with its key.
    const first = nextMondayUtc(2).getTime();
    type Outcome = { i: number; status: number; id?: string; attempts: number };
    const outcomes: Promise<Outcome>[] = [];
    const retries: Record<string, number> = {};
    const book = async (i: number): Promise<Outcome> => {
      const body = {
        providerId,
        clientId: `roll-${i}`,
        start: new Date(first + i * 30 * 60_000).toISOString(),
        client: { timeZone: 'Europe/Berlin', email: `roll-${i}@example.test`, phone: `+4915${String(100000 + i).padStart(9, '0')}` },
        paymentMethod: 'tok_success',
      };
      for (let attempt = 1; ; attempt++) {
        let status = 0;
        let reason = 'no answer';
        let answer: { status: number; body: any } | undefined;
        try {
          answer = await http('POST', `${gatewayFront.url}/v1/appointments`, body, { ...auth, 'idempotency-key': `roll-${env.id}-${i}` });
          status = answer.status;
          reason = `${status} ${answer.body?.code ?? ''}`.trim();
        } catch (error) {
          reason = `no answer: ${(error as Error).message}`;
        }
        if (status === 201 || (status >= 400 && status < 500) || attempt >= 30) return { i, status, id: answer?.body?.id, attempts: attempt };
        retries[reason] = (retries[reason] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    };
    let stopped = false;
    let capped = false;
    let restartsDone = false;
    const producing = (async () => {
      for (let i = 0; !stopped; i++) {
        if (i >= MAX_BOOKINGS) {
          capped = !restartsDone;
          break;
        }
        outcomes.push(book(i));
        await new Promise((resolve) => setTimeout(resolve, 1000 / RATE_PER_SECOND));
      }
    })();

    // Every instance in turn: SIGTERM, wait for its exit, start it again on its port, wait until ready.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const restarts: string[] = [];
    for (const name of ORDER) {
      const pair = instances.get(name)!;
      for (let k = 0; k < pair.length; k++) {
        const began = Date.now();
        const { port } = pair[k];
        await pair[k].stop('SIGTERM', 20_000);
        pair[k] = await start(name, port);
        restarts.push(`${name}#${k} ${Date.now() - began} ms`);
      }
    }
    restartsDone = true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    stopped = true;
    await producing;
    const answered = await Promise.all(outcomes);
    process.stdout.write(`rolling restart: ${answered.length} bookings${capped ? ` (the cap, reached before the last restart)` : ''}, client retries ${JSON.stringify(retries)}; restarts ${restarts.join(', ')}; fronts ${JSON.stringify(fronts.map((f) => f.stats()))}\n`);

    // Every booking answered 201 (after retries with its key), under its own id.
    expect(answered.filter((a) => a.status !== 201)).toEqual([]);
    const ids = answered.map((a) => a.id!);
    expect(new Set(ids).size).toBe(answered.length);
    expect(answered.length).toBeGreaterThan(RATE_PER_SECOND * 20);

    // Each CONFIRMED, once: one Confirmed event per appointment.
    await eventually(
      async () => Number((await knex.raw(`SELECT count(*) AS n FROM scheduling.appointments WHERE id = ANY(?) AND status = 'CONFIRMED'`, [ids])).rows[0].n) === ids.length,
      120_000,
      'every booking confirmed',
    );
    const stored = await knex.raw(`SELECT count(*)::int AS n FROM scheduling.appointments WHERE client_id LIKE 'roll-%'`);
    expect(stored.rows[0].n).toBe(ids.length);
    const confirmedEvents = await knex.raw(
      `SELECT stream_id, count(*)::int AS n FROM scheduling.events WHERE type = 'AppointmentConfirmed' AND stream_id = ANY(?) GROUP BY stream_id HAVING count(*) <> 1`,
      [ids],
    );
    expect(confirmedEvents.rows).toEqual([]);

    // Exactly one charge each.
    const charges = await knex.raw(`SELECT appointment_id, count(*)::int AS n, bool_and(status = 'SUCCEEDED') AS ok FROM payment.payments WHERE appointment_id = ANY(?) GROUP BY appointment_id`, [ids]);
    expect(charges.rows.length).toBe(ids.length);
    expect(charges.rows.filter((r: { n: number; ok: boolean }) => r.n !== 1 || !r.ok)).toEqual([]);

    // Exactly one mail and one SMS to each client, and one of each per booking to the provider, at the receivers.
    await eventually(
      async () => mails.filter((m) => recipientOf(m).startsWith('roll-')).length >= ids.length && sms.filter((m) => m.To !== '+4930123456').length >= ids.length,
      Math.max(120_000, ids.length * 400),
      'the confirmations delivered',
    );
    await eventually(async () => Number((await knex.raw(`SELECT count(*) AS n FROM notification.deliveries WHERE status <> 'SENT'`)).rows[0].n) === 0, 60_000, 'every delivery sent');
    const perClientMail = new Map<string, number>();
    for (const m of mails) perClientMail.set(recipientOf(m), (perClientMail.get(recipientOf(m)) ?? 0) + 1);
    expect([...perClientMail.entries()].filter(([to, n]) => to.startsWith('roll-') && n !== 1)).toEqual([]);
    expect(perClientMail.get('rolling@clinic.test')).toBe(ids.length);
    const perPhone = new Map<string, number>();
    for (const m of sms) perPhone.set(m.To, (perPhone.get(m.To) ?? 0) + 1);
    expect([...perPhone.entries()].filter(([to, n]) => to !== '+4930123456' && n !== 1)).toEqual([]);
    expect(perPhone.get('+4930123456')).toBe(ids.length);

    // One reminder plan per appointment: the same set of reminders for each, never twice.
    await eventually(async () => Number((await knex.raw(`SELECT count(DISTINCT appointment_id) AS n FROM reminder.reminders WHERE appointment_id = ANY(?)`, [ids])).rows[0].n) === ids.length, 60_000, 'every reminder plan');
    const plans = await knex.raw(`SELECT appointment_id, count(*)::int AS n FROM reminder.reminders WHERE appointment_id = ANY(?) GROUP BY appointment_id`, [ids]);
    const sizes = new Set(plans.rows.map((r: { n: number }) => r.n));
    expect(sizes.size).toBe(1);
    expect([...sizes][0]).toBeGreaterThan(0);

    // Every outbox empty.
    await eventually(
      async () => {
        const counts = await Promise.all(['scheduling', 'payment', 'notification', 'reminder'].map(async (s) => Number((await knex.raw(`SELECT count(*) AS n FROM ${s}.outbox`)).rows[0].n)));
        return counts.every((n) => n === 0);
      },
      60_000,
      'every outbox empty',
    );
  }, 900_000);
});
