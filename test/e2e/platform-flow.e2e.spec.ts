import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { SMTPServer } from 'smtp-server';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { DateTime } from 'luxon';
import { TOPICS } from '@booking/contracts';
import { caughtUp, http, nextMondayUtc, RunningService, startService } from '../support/platform';

/**
 * The flow a platform team walks, through the gateway, with all five services running as processes on
 * the real broker and Postgres, a real SMTP server and a local endpoint speaking Twilio's Messages API:
 * create a provider → list slots in the client's zone → book → pay → confirmed (mail, SMS, reminders)
 * → reschedule → cancel with a refund.
 */
describe('the whole platform through the gateway', () => {
  const env = new TestEnvironment();
  const secret = 'platform-flow-test-secret-0123456789abcdef';
  const issuer = 'https://auth.test/';
  const audience = 'booking-api';
  const services: RunningService[] = [];
  let gateway: RunningService;
  let payment: RunningService;
  let reminder: RunningService;
  let smtp: SMTPServer;
  let twilio: Server;
  const mails: string[] = [];
  const sms: Record<string, string>[] = [];

  const token = (claims: Record<string, unknown>, sub: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(issuer).setAudience(audience).setExpirationTime('1h').sign(new TextEncoder().encode(secret));

  beforeAll(async () => {
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
    twilio = createServer((req: IncomingMessage, res) => {
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
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    const twilioPort = (twilio.address() as AddressInfo).port;

    const scheduling = await startService('scheduling', env, { OUTBOX_POLL_INTERVAL_MS: '100' });
    const started = await Promise.all([
      startService('payment', env, { PAYMENT_PROVIDER_LATENCY_MS: '0', OUTBOX_POLL_INTERVAL_MS: '100' }),
      startService('notification', env, {
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        MAIL_FROM: 'bookings@clinic.test',
        TWILIO_API_BASE_URL: `http://127.0.0.1:${twilioPort}`,
        TWILIO_FROM: '+15005550006',
        OUTBOX_POLL_INTERVAL_MS: '100',
      }),
      startService('reminder', env, { OUTBOX_POLL_INTERVAL_MS: '100' }),
      startService('api-gateway', env, {
        SCHEDULING_URL: scheduling.url,
        JWT_SECRET: secret,
        JWT_ISSUER: issuer,
        JWT_AUDIENCE: audience,
        RATE_LIMIT_KEY_PREFIX: `flow:${env.id}`,
      }),
    ]);
    [payment, , reminder, gateway] = started;
    services.push(scheduling, ...started);
  }, 180000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise((resolve) => twilio?.close(resolve));
    await env.destroy();
  });

  it('creates a provider, books in Tokyo time, pays, confirms, notifies, reschedules and cancels with a refund', async () => {
    const admin = { authorization: `Bearer ${await token({ roles: ['admin'] }, 'ops')}` };
    const client = { authorization: `Bearer ${await token({ roles: ['client'], client_id: 'kenji' }, 'kenji')}` };

    const provider = await http('POST', `${gateway.url}/v1/providers`, {
      name: 'Dr. Ada Example',
      timeZone: 'America/New_York',
      slotDurationMinutes: 30,
      workingHours: { MON: ['09:00', '17:00'], TUE: ['09:00', '17:00'], WED: ['09:00', '17:00'], THU: ['09:00', '17:00'], FRI: ['09:00', '17:00'] },
      bookingHorizonDays: 120,
      price: { amountMinor: 12000, currency: 'USD' },
      contact: { email: 'ada@clinic.test', phone: '+12125550123' },
    }, { ...admin, 'idempotency-key': `provider-${env.id}` });
    expect(provider.status).toBe(201);

    // Tuesday in Tokyo starts on Monday 10:00 in New York (UTC-5 or -4): Monday's afternoon slots show up.
    const tuesday = new Date(nextMondayUtc(2).getTime() + 86_400_000).toISOString().slice(0, 10);
    const slots = await http('GET', `${gateway.url}/v1/providers/${provider.body.id}/slots?date=${tuesday}&timeZone=Asia/Tokyo`, undefined, client);
    expect(slots.status).toBe(200);
    expect(slots.body.slots.length).toBeGreaterThan(4);
    expect(slots.body.slots.every((s: { local: { date: string; start: string } }) => s.local.date === tuesday && s.local.start.endsWith('+09:00'))).toBe(true);
    const [first, second] = [slots.body.slots[2], slots.body.slots[4]];

    const booked = await http(
      'POST',
      `${gateway.url}/v1/appointments`,
      {
        providerId: provider.body.id,
        clientId: 'kenji',
        start: first.start,
        client: { timeZone: 'Asia/Tokyo', email: 'kenji@example.jp', phone: '+819012345678' },
        paymentMethod: 'tok_success',
      },
      { ...client, 'idempotency-key': `book-${env.id}`, 'x-correlation-id': `flow-${env.id}` },
    );
    expect(booked.status).toBe(201);
    expect(booked.body.status).toBe('PENDING');
    expect(booked.headers.get('x-correlation-id')).toBe(`flow-${env.id}`);
    const id = booked.body.id;

    const confirmed = await eventually(async () => {
      const a = await http('GET', `${gateway.url}/v1/appointments/${id}`, undefined, client);
      return a.body.status === 'CONFIRMED' ? a.body : undefined;
    }, 30000, 'CONFIRMED');
    expect(confirmed).toMatchObject({ paidMinor: 12000, local: { timeZone: 'Asia/Tokyo', start: first.local.start } });

    // One email and one SMS to each party, each in the reader's own zone, counted once notification
    // has handled everything scheduling published so far.
    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'notification' });
    expect(sms.map((m) => m.To).sort()).toEqual(['+12125550123', '+819012345678']);
    expect(mails.map(recipientOf).sort()).toEqual(['ada@clinic.test', 'kenji@example.jp']);
    // The start as each reader's clock shows it: the slot's Tokyo rendering for the client, New York's for the provider.
    const tokyoHour = first.local.start.slice(11, 16);
    const inTokyo = readable(first.local.start, 'Asia/Tokyo');
    const inNewYork = readable(first.start, 'America/New_York');
    expect(inTokyo).toContain(twelveHour(tokyoHour));
    expect(inTokyo).not.toBe(inNewYork);
    expect(sms.find((m) => m.To === '+819012345678')!.Body).toContain(inTokyo);
    expect(sms.find((m) => m.To === '+12125550123')!.Body).toContain(inNewYork);
    const clientMail = mailText(mails.find((m) => recipientOf(m) === 'kenji@example.jp')!);
    expect(clientMail).toContain(inTokyo);
    expect(clientMail).not.toContain(inNewYork);
    expect(clientMail).toContain('BEGIN:VCALENDAR');
    expect(mailText(mails.find((m) => recipientOf(m) === 'ada@clinic.test')!)).toContain(inNewYork);

    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'reminder' });
    const reminders = (await http('GET', `${reminder.url}/reminders?appointmentId=${id}`)).body.reminders;
    expect(reminders.map((r: { status: string }) => r.status)).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'SCHEDULED']);

    const moved = await http('POST', `${gateway.url}/v1/appointments/${id}/reschedule`, { start: second.start }, { ...client, 'idempotency-key': `move-${env.id}` });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ start: second.start, status: 'CONFIRMED' });

    const cancelled = await http('POST', `${gateway.url}/v1/appointments/${id}/cancel`, {}, { ...client, 'idempotency-key': `cancel-${env.id}` });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', refundMinor: 12000, feeMinor: 0 });

    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'payment' });
    const money = (await http('GET', `${payment.url}/payments?appointmentId=${id}`)).body;
    expect(money.refunds.map((r: { amountMinor: number }) => r.amountMinor)).toEqual([12000]);
    const after = await eventually(async () => {
      const r = await http('GET', `${reminder.url}/reminders?appointmentId=${id}`);
      const items = r.body?.reminders ?? [];
      return items.length && items.every((x: { status: string }) => x.status !== 'SCHEDULED') ? items : undefined;
    }, 30000, 'reminders cancelled');
    expect(after.every((r: { status: string }) => ['CANCELLED', 'SKIPPED'].includes(r.status))).toBe(true);

    const history = await http('GET', `${gateway.url}/v1/appointments/${id}/events`, undefined, client);
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual([
      'AppointmentRequested',
      'AppointmentConfirmed',
      'AppointmentRescheduled',
      'AppointmentCancelled',
    ]);
    expect(history.body.items[0].correlationId).toBe(`flow-${env.id}`);

    // Confirmed, rescheduled, cancelled: each once to each party, by mail and by SMS, nothing twice.
    await caughtUp(env, { outboxSchema: 'scheduling', topic: TOPICS.appointment, group: 'notification' });
    for (const to of ['+819012345678', '+12125550123']) {
      const bodies = sms.filter((m) => m.To === to).map((m) => m.Body);
      expect({ to, sent: bodies.length, distinct: new Set(bodies).size }).toEqual({ to, sent: 3, distinct: 3 });
    }
    for (const to of ['kenji@example.jp', 'ada@clinic.test']) expect({ to, sent: mails.filter((m) => recipientOf(m) === to).length }).toEqual({ to, sent: 3 });
    expect([sms.length, mails.length]).toEqual([6, 6]);
  }, 180000);
});

/** An instant as the notifications render it in English: "Tuesday, March 5, 2030 at 2:00 AM". */
function readable(iso: string, zone: string): string {
  return DateTime.fromISO(iso, { zone }).setLocale('en-US').toFormat("cccc, LLLL d, yyyy 'at' h:mm a");
}

/** "14:30" → "2:30 PM". */
function twelveHour(hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  return `${h % 12 || 12}:${String(m).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
}

function recipientOf(raw: string): string {
  return /^To: .*?<?([^<>\s]+@[^<>\s]+?)>?\r?$/m.exec(raw)?.[1] ?? '';
}

/** The message's text as a reader sees it: quoted-printable soft breaks and escapes undone. */
function mailText(raw: string): string {
  const bytes = raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
