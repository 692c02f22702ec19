import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { SignJWT } from 'jose';
import { SMTPServer } from 'smtp-server';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { http, nextMondayUtc, RunningService, ServiceName, startService } from '../support/platform';

type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number };
type Received = OtlpSpan & { service: string };
type OtlpExport = {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
};

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/** An OTLP/HTTP receiver (the JSON encoding the services' exporter sends): keeps every span it is sent. */
async function otlpReceiver(): Promise<{ url: string; spans: Received[]; server: Server }> {
  const spans: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const decoded = JSON.parse(body.toString('utf8')) as OtlpExport;
      for (const { resource, scopeSpans } of decoded.resourceSpans) {
        const service = resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const scope of scopeSpans) for (const span of scope.spans) spans.push({ ...span, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

/**
 * One booking's trace across all five services, as exported over OTLP: the gateway's request, the
 * call to scheduling, every outbox row and Kafka hop (AppointmentRequested → charge → PaymentSucceeded
 * → AppointmentConfirmed → notification deliveries and reminder planning, and the reminder's
 * ReminderDue → its delivery), each span the child of the one that caused it.
 */
describe('one trace per booking across every service and Kafka hop (OTLP export)', () => {
  const env = new TestEnvironment();
  const secret = 'tracing-e2e-test-secret-0123456789abcdef';
  const issuer = 'https://auth.test/';
  const audience = 'booking-api';
  const services: RunningService[] = [];
  const byName = {} as Record<ServiceName, RunningService>;
  const gatewayLog: string[] = [];
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let smtp: SMTPServer;
  // The slot booked below; the one reminder offset makes its reminder due at once (its fire time just
  // before the reminder service starts, well within the grace), so the ReminderDue hop is traced too.
  const slotStart = (i: number) => new Date(nextMondayUtc(2).getTime() + 8 * 3_600_000 + i * 1_800_000);

  beforeAll(async () => {
    receiver = await otlpReceiver();
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
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', OUTBOX_POLL_INTERVAL_MS: '100' };
    const scheduling = await startService('scheduling', env, otel);
    const started = await Promise.all([
      startService('payment', env, { ...otel, PAYMENT_PROVIDER_LATENCY_MS: '0' }),
      startService('notification', env, { ...otel, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'bookings@clinic.test' }),
      startService('reminder', env, { ...otel, REMINDER_OFFSETS_MINUTES: String(Math.ceil((slotStart(0).getTime() - Date.now()) / 60_000)), REMINDER_MISSED_GRACE_SECONDS: '3600' }),
      startService('api-gateway', env, { ...otel, LOG_LEVEL: 'info', SCHEDULING_URL: scheduling.url, JWT_SECRET: secret, JWT_ISSUER: issuer, JWT_AUDIENCE: audience, RATE_LIMIT_KEY_PREFIX: `trace:${env.id}` }),
    ]);
    services.push(scheduling, ...started);
    for (const service of services) byName[service.name] = service;
    byName['api-gateway'].child.stdout!.on('data', (chunk: Buffer) => gatewayLog.push(chunk.toString()));
  }, 600_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise((resolve) => receiver?.server.close(resolve));
    await env.destroy();
  });

  it('links gateway, scheduling, payment, notification and reminder spans of one booking into one trace', async () => {
    const sign = (claims: Record<string, unknown>, sub: string) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(issuer).setAudience(audience).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    const admin = { authorization: `Bearer ${await sign({ roles: ['admin'] }, 'ops')}` };
    const gateway = byName['api-gateway'].url;
    const provider = await http(
      'POST',
      `${gateway}/v1/providers`,
      { name: 'Dr. Trace', timeZone: 'UTC', slotDurationMinutes: 30, workingHours: { MON: ['08:00', '18:00'] }, bookingHorizonDays: 120, price: { amountMinor: 5000, currency: 'USD' }, contact: { email: 'trace@clinic.test' } },
      { ...admin, 'idempotency-key': `provider-${env.id}` },
    );
    expect(provider.status).toBe(201);
    const start = (i: number) => slotStart(i).toISOString();
    const body = (i: number) => ({ providerId: provider.body.id, clientId: `c${i}`, start: start(i), client: { timeZone: 'UTC', email: `c${i}@example.test` }, paymentMethod: 'tok_success' });

    // The caller's trace is continued: its span is the gateway span's parent.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const booked = await http('POST', `${gateway}/v1/appointments`, body(0), { ...admin, 'idempotency-key': `b0-${env.id}`, traceparent: `00-${traceId}-${callerSpanId}-01`, 'x-correlation-id': `trace-${env.id}` });
    expect(booked.status).toBe(201);
    expect(booked.headers.get('x-correlation-id')).toBe(`trace-${env.id}`);

    const expected: [ServiceName, number, string][] = [
      ['api-gateway', SERVER, 'POST /v1/appointments'],
      ['scheduling', SERVER, 'POST /appointments'],
      ['scheduling', PRODUCER, 'AppointmentRequested publish'],
      ['payment', CONSUMER, 'AppointmentRequested process'],
      ['payment', 1, 'charge'],
      ['payment', PRODUCER, 'PaymentSucceeded publish'],
      ['scheduling', CONSUMER, 'PaymentSucceeded process'],
      ['scheduling', PRODUCER, 'AppointmentConfirmed publish'],
      ['notification', CONSUMER, 'AppointmentConfirmed process'],
      ['notification', 1, 'deliver EMAIL'],
      ['reminder', CONSUMER, 'AppointmentConfirmed process'],
      ['reminder', 1, 'plan reminders'],
      // The reminder, planned in that span and claimed later in SQL, keeps its trace context.
      ['reminder', PRODUCER, 'ReminderDue publish'],
      ['notification', CONSUMER, 'ReminderDue process'],
    ];
    const find = (spans: Received[], [service, kind, name]: [ServiceName, number, string]) => spans.filter((s) => s.service === service && s.kind === kind && s.name === name);
    const trace = await eventually(
      async () => {
        const spans = receiver.spans.filter((s) => s.traceId === traceId);
        // Three deliveries (client and provider, then the client's reminder) and their process spans: wait for all of them.
        return expected.every((e) => find(spans, e).length > 0) && find(spans, expected[9]).length >= 3 ? spans : undefined;
      },
      90_000,
      'every span of the booking exported',
    );
    const one = (e: [ServiceName, number, string]) => {
      const found = find(trace, e);
      expect({ span: e, count: found.length }).toEqual({ span: e, count: 1 });
      return found[0];
    };
    const [gatewaySpan, schedulingSpan, requestedOut, paymentIn, charge, succeededOut, succeededIn, confirmedOut, notificationIn, , reminderIn, planning, reminderDueOut, reminderDueIn] = expected.map((e, i) => (i === 9 ? find(trace, e)[0] : one(e)));
    const parentOf = (span: Received) => span.parentSpanId ?? '';
    expect(parentOf(gatewaySpan)).toBe(callerSpanId);
    expect(parentOf(schedulingSpan)).toBe(gatewaySpan.spanId);
    expect(parentOf(requestedOut)).toBe(schedulingSpan.spanId);
    expect(parentOf(paymentIn)).toBe(requestedOut.spanId);
    expect(parentOf(charge)).toBe(paymentIn.spanId);
    expect(parentOf(succeededOut)).toBe(paymentIn.spanId);
    expect(parentOf(succeededIn)).toBe(succeededOut.spanId);
    expect(parentOf(confirmedOut)).toBe(succeededIn.spanId);
    expect(parentOf(notificationIn)).toBe(confirmedOut.spanId);
    expect(parentOf(reminderIn)).toBe(confirmedOut.spanId);
    expect(parentOf(planning)).toBe(reminderIn.spanId);
    expect(parentOf(reminderDueOut)).toBe(planning.spanId);
    expect(parentOf(reminderDueIn)).toBe(reminderDueOut.spanId);
    const deliveries = find(trace, expected[9]).map(parentOf);
    expect(deliveries.sort()).toEqual([notificationIn.spanId, notificationIn.spanId, reminderDueIn.spanId].sort());
    // No span of the trace hangs from a parent that is not in it (but the caller's).
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => parentOf(s) !== callerSpanId && !ids.has(parentOf(s))).map((s) => `${s.service} ${s.name}`)).toEqual([]);
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['api-gateway', 'scheduling', 'payment', 'notification', 'reminder']));

    // The gateway's log lines of that request carry the trace and span ids, and the correlation id still.
    const line = await eventually(async () => gatewayLog.join('').split('\n').find((l) => l.includes(`"trace_id":"${traceId}"`) && l.includes('request completed')), 10_000, 'a gateway log line with the trace id');
    expect(JSON.parse(line)).toMatchObject({ trace_id: traceId, span_id: gatewaySpan.spanId, correlationId: `trace-${env.id}` });
  }, 180_000);

  it('starts a new trace for a malformed traceparent, and answers normally', async () => {
    const admin = {
      authorization: `Bearer ${await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setIssuer(issuer).setAudience(audience).setExpirationTime('1h').sign(new TextEncoder().encode(secret))}`,
    };
    const gateway = byName['api-gateway'].url;
    for (const traceparent of ['garbage', '00-00000000000000000000000000000000-0000000000000000-01', `00-${'z'.repeat(32)}-${'1'.repeat(16)}-01`, `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`]) {
      const before = receiver.spans.length;
      const answer = await http('GET', `${gateway}/v1/providers?limit=1`, undefined, { ...admin, traceparent });
      expect({ traceparent, status: answer.status }).toEqual({ traceparent, status: 200 });
      const span = await eventually(async () => receiver.spans.slice(before).find((s) => s.service === 'api-gateway' && s.kind === SERVER && s.name === 'GET /v1/providers'), 30_000, 'the gateway span');
      expect({ traceparent, parent: span.parentSpanId ?? '' }).toEqual({ traceparent, parent: '' });
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.traceId).not.toBe('0'.repeat(32));
    }
  }, 120_000);
});
