import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { dlqTopic, Envelope, HEADER_EVENT_TYPE, TOPICS } from '@booking/contracts';
import { createHttpApp, Platform } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { AppModule } from './app.module';
import { loadNotificationConfig } from './config';
import { DeliveryRow } from './deliveries/deliveries.repository';
import { NotifiableEvent } from './deliveries/notifiable-event';
import { cancelled, confirmed, newYorkProvider, reminderDue, rescheduled, tokyoClient } from './testing/fixtures';
import { PushReceiver } from './testing/push-receiver';
import { readMail, SmtpTestServer } from './testing/smtp-test-server';
import { TwilioApiServer } from './testing/twilio-api-server';

const unfold = (ics: string | undefined) => (ics ?? '').replace(/\r\n /g, '');

/**
 * The notification service as deployed — Nest app, Postgres, the real Kafka broker — with nodemailer
 * talking to a real SMTP server, the twilio SDK to a local Messages API, and push to a local receiver.
 */
describe('notification service through the broker', () => {
  const env = new TestEnvironment();
  const accountSid = `AC${'7'.repeat(32)}`;
  const authToken = randomBytes(16).toString('hex');
  const pushSecret = randomBytes(24).toString('base64url');
  const smtp = new SmtpTestServer();
  const twilioApi = new TwilioApiServer(accountSid, authToken);
  const pushReceiver = new PushReceiver(pushSecret);
  const published: Envelope[] = [];
  let app: INestApplication;
  let platform: Platform;
  let kafka: Kafka;
  let producer: Producer;
  let reader: Consumer;
  let pushBase = '';

  const topic = (name: string) => `${env.namespace}.${name}`;

  async function publish(event: NotifiableEvent): Promise<void> {
    await producer.send({
      topic: topic(event.type === 'ReminderDue' ? TOPICS.reminder : TOPICS.appointment),
      messages: [{ key: event.data.appointmentId, value: JSON.stringify(event), headers: { [HEADER_EVENT_TYPE]: event.type } }],
    });
  }

  const outcomesOf = (event: NotifiableEvent) => published.filter((e) => e.data.sourceEventId === event.eventId);

  const waitForOutcomes = (event: NotifiableEvent, count: number) =>
    eventually(async () => outcomesOf(event).length >= count && outcomesOf(event), 20000, `${count} outcomes of ${event.type}`);

  const deliveriesOf = (event: NotifiableEvent): Promise<DeliveryRow[]> =>
    platform.knex.withSchema('notification').table('deliveries').where({ source_event_id: event.eventId }).orderBy(['recipient_role', 'channel']);

  beforeAll(async () => {
    const [smtpUrl, twilioUrl, pushUrl] = await Promise.all([smtp.start(), twilioApi.start(), pushReceiver.start()]);
    pushBase = pushUrl;
    const config = loadNotificationConfig(
      env.env({
        SMTP_URL: smtpUrl,
        MAIL_FROM: 'Booking <no-reply@booking.test>',
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: twilioUrl,
        PUSH_SIGNING_SECRET: pushSecret,
        PUSH_ALLOW_HTTP: 'true',
        NOTIFY_SEND_TIMEOUT_MS: '2000',
        NOTIFY_LEASE_MS: '5000',
        NOTIFY_INITIAL_BACKOFF_MS: '50',
        NOTIFY_MAX_BACKOFF_MS: '400',
        OUTBOX_POLL_INTERVAL_MS: '100',
      }),
    );
    app = await createHttpApp(AppModule.forRoot(config), config);
    await app.listen(0, '127.0.0.1');
    await app.get(Platform).untilKafkaConnected();
    platform = app.get(Platform);
    // The consumer joins its group in the background; ready says it has (and that its topics exist).
    const { port } = app.getHttpServer().address() as AddressInfo;
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, 30000, 'notification ready');

    kafka = new Kafka({ brokers: config.KAFKA_BROKERS.split(','), clientId: `${env.id}-test`, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    reader = kafka.consumer({ groupId: `${env.id}-reader`, sessionTimeout: 6000, maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topic: topic(TOPICS.notification), fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void published.push(JSON.parse(String(message.value)) as Envelope) });
  });

  afterAll(async () => {
    await reader?.disconnect();
    await producer?.disconnect();
    await app?.close();
    await Promise.all([smtp.stop(), twilioApi.stop(), pushReceiver.stop()]);
    await env.destroy();
  });

  it('is ready once Postgres, Kafka and its consumer are up', async () => {
    const { port } = app.getHttpServer().address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { details: unknown }).details).toMatchObject({ postgres: { status: 'up' }, kafka: { status: 'up' }, startup: { status: 'up' } });
  });

  const booking = confirmed({ appointmentId: 'appt-tokyo-ny' }, { aggregateVersion: 2 });

  it('sends one email and one SMS to each party of a Tokyo–New York booking, each in local time', async () => {
    await publish(booking);
    const outcomes = await waitForOutcomes(booking, 4);
    expect(outcomes.map((e) => e.type)).toEqual(Array(4).fill('NotificationSent'));
    expect(outcomes.every((e) => e.aggregateId === 'appt-tokyo-ny' && e.data.reminderId === null)).toBe(true);
    expect(outcomes.map((e) => `${String(e.data.recipientRole)}/${String(e.data.channel)}`).sort()).toEqual([
      'CLIENT/EMAIL',
      'CLIENT/SMS',
      'PROVIDER/EMAIL',
      'PROVIDER/SMS',
    ]);

    const [clientMail] = smtp.to(tokyoClient.email!).map(readMail);
    const [providerMail] = smtp.to(newYorkProvider.email!).map(readMail);
    expect(smtp.to(tokyoClient.email!)).toHaveLength(1);
    expect(smtp.to(newYorkProvider.email!)).toHaveLength(1);
    expect(clientMail.subject).toBe('Appointment confirmed: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)');
    expect(clientMail.text).toContain('Starts: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)');
    expect(clientMail.html).toContain('<td>Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)</td>');
    expect(clientMail.from).toBe('Booking <no-reply@booking.test>');
    expect(clientMail.to).toBe('Aiko Tanaka <aiko@example.jp>');
    expect(providerMail.subject).toBe('New booking: Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York)');
    expect(providerMail.text).toContain('Starts: Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York)');
    for (const mail of [clientMail, providerMail]) {
      const ics = unfold(mail.calendar?.content);
      expect(mail.calendar?.contentType).toBe('text/calendar; charset=utf-8; method=REQUEST');
      expect(ics).toContain('\r\nMETHOD:REQUEST\r\n');
      expect(ics).toContain('\r\nUID:appt-tokyo-ny@booking\r\n');
      expect(ics).toContain('\r\nSEQUENCE:2\r\n');
      expect(ics).toContain('\r\nDTSTART:20261201T140000Z\r\n');
      expect(ics).toContain('\r\nDTEND:20261201T143000Z\r\n');
      expect(mail.attachment?.content).toBe(mail.calendar?.content);
    }

    const clientSms = twilioApi.to(tokyoClient.phone!);
    const providerSms = twilioApi.to(newYorkProvider.phone!);
    expect(clientSms).toHaveLength(1);
    expect(providerSms).toHaveLength(1);
    expect(clientSms[0].form.Body).toBe(
      'Confirmed: your appointment with Dr. Sam Smith on Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo) (30 minutes). Ref appt-tokyo-ny',
    );
    expect(providerSms[0].form.Body).toBe(
      'New booking: Aiko Tanaka on Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York) (30 minutes). Ref appt-tokyo-ny',
    );
    expect(clientSms[0].form.From).toBe('+15005550006');
    expect(clientSms[0].path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
  });

  it('sends nothing more when the same event is delivered again', async () => {
    await publish(booking);
    // Same key, same partition: once this marker is handled, the redelivered event before it was too.
    const marker = confirmed(
      { appointmentId: 'appt-tokyo-ny', client: { timeZone: 'Asia/Tokyo', email: 'marker@example.jp' }, provider: { timeZone: 'America/New_York' } },
      { aggregateVersion: 2 },
    );
    await publish(marker);
    await waitForOutcomes(marker, 1);
    expect(smtp.to(tokyoClient.email!)).toHaveLength(1);
    expect(smtp.to(newYorkProvider.email!)).toHaveLength(1);
    expect(twilioApi.to(tokyoClient.phone!)).toHaveLength(1);
    expect(twilioApi.to(newYorkProvider.phone!)).toHaveLength(1);
    expect(outcomesOf(booking)).toHaveLength(4);
    expect((await deliveriesOf(booking)).map((d) => [d.status, d.attempts])).toEqual(Array(4).fill(['SENT', 1]));
  });

  it('delivers exactly one mail when the SMTP server refuses twice and then accepts', async () => {
    const event = confirmed({ client: { timeZone: 'Asia/Tokyo', email: 'retry@example.jp' }, provider: { timeZone: 'America/New_York' } });
    const before = smtp.transactions;
    smtp.refuseNext(2);
    await publish(event);
    const [outcome] = await waitForOutcomes(event, 1);
    expect(outcome.type).toBe('NotificationSent');
    expect(smtp.to('retry@example.jp')).toHaveLength(1);
    expect(smtp.transactions - before).toBe(3);
    const [delivery] = await deliveriesOf(event);
    expect(delivery).toMatchObject({ status: 'SENT', attempts: 3 });
    expect(delivery.last_error).toContain('451');
  });

  it('marks a rejected address and an invalid number FAILED at once and says so on the topic', async () => {
    smtp.reject('bounce@example.jp');
    twilioApi.markInvalid('+15005550001');
    const event = confirmed({
      client: { timeZone: 'Asia/Tokyo', email: 'bounce@example.jp', phone: '+15005550001' },
      provider: { timeZone: 'America/New_York' },
    });
    await publish(event);
    const outcomes = await waitForOutcomes(event, 2);
    expect(outcomes.map((e) => e.type)).toEqual(['NotificationFailed', 'NotificationFailed']);
    const byChannel = Object.fromEntries(outcomes.map((e) => [String(e.data.channel), String(e.data.error)]));
    expect(byChannel.EMAIL).toContain('550');
    expect(byChannel.SMS).toBe("Twilio HTTP 400 error 21211: The 'To' number +15005550001 is not a valid phone number.");
    expect((await deliveriesOf(event)).map((d) => [d.channel, d.status, d.attempts])).toEqual([
      ['EMAIL', 'FAILED', 1],
      ['SMS', 'FAILED', 1],
    ]);
    expect(twilioApi.to('+15005550001')).toHaveLength(1);
  });

  it('sends a due reminder to the client on its channel only, reporting the reminder id', async () => {
    const sms = reminderDue({ appointmentId: 'appt-reminded', channel: 'SMS', client: { ...tokyoClient, phone: '+819011112222' }, provider: { ...newYorkProvider, phone: '+12125559999' } });
    await publish(sms);
    const [sent] = await waitForOutcomes(sms, 1);
    expect(sent).toMatchObject({ type: 'NotificationSent', aggregateId: 'appt-reminded', data: { reminderId: sms.data.reminderId, channel: 'SMS', recipientRole: 'CLIENT' } });
    expect(twilioApi.to('+819011112222').map((r) => r.form.Body)).toEqual([
      'Reminder: your appointment with Dr. Sam Smith is on Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo) (in 24 hours). Ref appt-reminded',
    ]);
    expect(twilioApi.to('+12125559999')).toHaveLength(0);

    const endpoint = `${pushBase}/devices/aiko`;
    const push = reminderDue({ appointmentId: 'appt-reminded', channel: 'PUSH', offsetMinutes: 60, client: { ...tokyoClient, pushEndpoint: endpoint } });
    await publish(push);
    const [pushed] = await waitForOutcomes(push, 1);
    expect(pushed).toMatchObject({ type: 'NotificationSent', data: { reminderId: push.data.reminderId, channel: 'PUSH' } });
    const [received] = pushReceiver.at('/devices/aiko');
    expect(received.verified).toBe(true);
    expect(received.payload).toMatchObject({ deliveryId: pushed.data.deliveryId, event: 'ReminderDue', title: 'Appointment reminder' });
    expect(String(received.payload.body)).toContain('11:00 PM GMT+9 (Asia/Tokyo) (in 1 hour)');
  });

  it('renders a move within the repeated hour of the New York fall-back night with the right abbreviations', async () => {
    const event = rescheduled(
      {
        appointmentId: 'appt-dst',
        client: { ...tokyoClient, email: 'dst-client@example.jp', phone: undefined },
        provider: { ...newYorkProvider, email: 'dst-provider@clinic.example', phone: undefined },
        previousStart: '2026-11-01T05:30:00.000Z',
        previousEnd: '2026-11-01T06:00:00.000Z',
        start: '2026-11-01T06:30:00.000Z',
        end: '2026-11-01T07:00:00.000Z',
      },
      { aggregateVersion: 3 },
    );
    await publish(event);
    await waitForOutcomes(event, 2);
    const [provider] = smtp.to('dst-provider@clinic.example').map(readMail);
    expect(provider.subject).toBe('Appointment moved: Sunday, November 1, 2026 at 1:30 AM EST (America/New_York)');
    expect(provider.text).toContain('Was: Sunday, November 1, 2026 at 1:30 AM EDT (America/New_York)');
    expect(provider.text).toContain('Now starts: Sunday, November 1, 2026 at 1:30 AM EST (America/New_York)');
    expect(provider.text).toContain('Ends: Sunday, November 1, 2026 at 2:00 AM EST (America/New_York)');
    const [client] = smtp.to('dst-client@example.jp').map(readMail);
    expect(client.text).toContain('Now starts: Sunday, November 1, 2026 at 3:30 PM GMT+9 (Asia/Tokyo)');
    const ics = unfold(provider.calendar?.content);
    expect(ics).toContain('\r\nMETHOD:REQUEST\r\n');
    expect(ics).toContain('\r\nUID:appt-dst@booking\r\n');
    expect(ics).toContain('\r\nSEQUENCE:3\r\n');
    expect(ics).toContain('\r\nDTSTART:20261101T063000Z\r\n');
  });

  it('withdraws the calendar entry on cancellation and tells the client the refund', async () => {
    const event = cancelled(
      {
        appointmentId: 'appt-cancel',
        client: { ...tokyoClient, email: 'cancel-client@example.jp', phone: undefined },
        provider: { ...newYorkProvider, email: 'cancel-provider@clinic.example', phone: undefined },
      },
      { aggregateVersion: 4 },
    );
    await publish(event);
    await waitForOutcomes(event, 2);
    const [client] = smtp.to('cancel-client@example.jp').map(readMail);
    expect(client.text).toContain('Refund: ¥120,000');
    expect(client.text).toContain('Cancellation fee: ¥30,000');
    for (const mail of [client, ...smtp.to('cancel-provider@clinic.example').map(readMail)]) {
      const ics = unfold(mail.calendar?.content);
      expect(mail.calendar?.contentType).toBe('text/calendar; charset=utf-8; method=CANCEL');
      expect(ics).toContain('\r\nMETHOD:CANCEL\r\n');
      expect(ics).toContain('\r\nSTATUS:CANCELLED\r\n');
      expect(ics).toContain('\r\nUID:appt-cancel@booking\r\n');
      expect(ics).toContain('\r\nSEQUENCE:4\r\n');
    }
  });

  it('dead-lettered nothing along the way', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const name of [TOPICS.appointment, TOPICS.reminder]) {
        const offsets = await admin.fetchTopicOffsets(topic(dlqTopic(name)));
        expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(0);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
