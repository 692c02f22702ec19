import { Knex } from 'knex';
import pino from 'pino';
import { Envelope } from '@booking/contracts';
import { createKnex, migrate, outboxMigrations, prepareDatabase } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { migrations } from '../migrations';
import { confirmed, reminderDue, tokyoClient } from '../testing/fixtures';
import { scriptedChannels } from '../testing/scripted-channel';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveriesPendingError, NotifyHandler } from './notify.handler';

const SCHEMA = 'notification';

/** The delivery bookkeeping against real Postgres: claims, leases, retries and the outbox. */
describe('NotifyHandler', () => {
  const env = new TestEnvironment();
  let knex: Knex;
  let repository: DeliveriesRepository;

  const handler = (channels: ReturnType<typeof scriptedChannels>, overrides: { maxAttempts?: number; leaseMs?: number } = {}) =>
    new NotifyHandler(
      repository,
      channels,
      { maxAttempts: overrides.maxAttempts ?? 3, leaseMs: overrides.leaseMs ?? 5000, compose: { organizer: { email: 'no-reply@booking.test' } } },
      pino({ level: 'silent' }),
    );

  const outboxFor = async (sourceEventId: string) =>
    (await knex.withSchema(SCHEMA).table('outbox').orderBy('id')).map((row: { payload: Envelope }) => row.payload).filter((e) => e.data.sourceEventId === sourceEventId);

  beforeAll(async () => {
    await prepareDatabase(env.databaseUrl, SCHEMA);
    knex = createKnex(env.databaseUrl, SCHEMA);
    await migrate(knex, SCHEMA, [...outboxMigrations(SCHEMA), ...migrations]);
    repository = new DeliveriesRepository(knex, SCHEMA);
  });

  afterAll(async () => {
    await knex?.destroy();
    await env.destroy();
  });

  it('sends each delivery once and records it SENT with a NotificationSent in the outbox', async () => {
    const channels = scriptedChannels();
    const event = confirmed();
    await handler(channels).handle(event);
    expect(channels.EMAIL.sent.map((m) => m.to.address).sort()).toEqual(['aiko@example.jp', 'sam@clinic.example']);
    expect(channels.SMS.sent.map((m) => m.to).sort()).toEqual(['+12125550100', '+819012345678']);
    const rows = await repository.forEvent(event.eventId);
    expect(rows.map((r) => [r.recipient_role, r.channel, r.status, r.attempts])).toEqual([
      ['CLIENT', 'EMAIL', 'SENT', 1],
      ['CLIENT', 'SMS', 'SENT', 1],
      ['PROVIDER', 'EMAIL', 'SENT', 1],
      ['PROVIDER', 'SMS', 'SENT', 1],
    ]);
    expect(rows.every((r) => r.claim_token === null && r.provider_message_id?.startsWith('msg-'))).toBe(true);
    const events = await outboxFor(event.eventId);
    expect(events.map((e) => e.type)).toEqual(Array(4).fill('NotificationSent'));
    expect(events.map((e) => e.data.deliveryId).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(events[0]).toMatchObject({ aggregateId: event.data.appointmentId, data: { reminderId: null, sourceEventType: 'AppointmentConfirmed' } });

    await handler(channels).handle(event);
    expect(channels.EMAIL.sent).toHaveLength(2);
    expect(channels.SMS.sent).toHaveLength(2);
    expect(await outboxFor(event.eventId)).toHaveLength(4);
  });

  it('sends each delivery once when two instances handle the same event at the same time', async () => {
    const channels = scriptedChannels();
    channels.EMAIL.delayMs = 150;
    channels.SMS.delayMs = 150;
    const event = confirmed();
    const results = await Promise.allSettled([handler(channels).handle(event), handler(channels).handle(event)]);
    // Whoever found a delivery claimed by the other is told to come back; nobody sends it twice.
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DeliveriesPendingError);
    expect(channels.EMAIL.sent).toHaveLength(2);
    expect(channels.SMS.sent).toHaveLength(2);
    await handler(channels).handle(event);
    expect(channels.EMAIL.sent.length + channels.SMS.sent.length).toBe(4);
    expect(await outboxFor(event.eventId)).toHaveLength(4);
  });

  it('retries a transient failure on the next run and records the last error', async () => {
    const channels = scriptedChannels();
    channels.EMAIL.script('aiko@example.jp', 'transient', 'throw');
    const event = confirmed({ provider: { timeZone: 'America/New_York' } });
    const notify = handler(channels);
    await expect(notify.handle(event)).rejects.toThrow(DeliveriesPendingError);
    await expect(notify.handle(event)).rejects.toThrow(DeliveriesPendingError);
    expect(channels.SMS.sent).toHaveLength(1);
    await notify.handle(event);
    expect(channels.EMAIL.to('aiko@example.jp')).toHaveLength(1);
    expect(channels.SMS.sent).toHaveLength(1);
    const email = (await repository.forEvent(event.eventId)).find((r) => r.channel === 'EMAIL');
    expect(email).toMatchObject({ status: 'SENT', attempts: 3, last_error: 'unexpected: something unexpected' });
  });

  it('marks a delivery FAILED after its last transient attempt, with a NotificationFailed', async () => {
    const channels = scriptedChannels();
    channels.SMS.script('+819012345678', 'transient', 'transient', 'transient', 'transient');
    const event = confirmed({ provider: { timeZone: 'America/New_York' }, client: { ...tokyoClient, email: undefined } });
    const notify = handler(channels, { maxAttempts: 3 });
    await expect(notify.handle(event)).rejects.toThrow(DeliveriesPendingError);
    await expect(notify.handle(event)).rejects.toThrow(DeliveriesPendingError);
    await notify.handle(event);
    const [row] = await repository.forEvent(event.eventId);
    expect(row).toMatchObject({ status: 'FAILED', attempts: 3, last_error: 'gave up after 3 attempts: provider busy for +819012345678' });
    const [failed] = await outboxFor(event.eventId);
    expect(failed).toMatchObject({ type: 'NotificationFailed', data: { deliveryId: row.id, channel: 'SMS', error: row.last_error } });
    await notify.handle(event);
    expect(await outboxFor(event.eventId)).toHaveLength(1);
  });

  it('marks a permanent failure FAILED at once and still sends the rest', async () => {
    const channels = scriptedChannels();
    channels.EMAIL.script('sam@clinic.example', 'permanent');
    const event = confirmed();
    await handler(channels).handle(event);
    const rows = await repository.forEvent(event.eventId);
    expect(rows.filter((r) => r.status === 'SENT')).toHaveLength(3);
    expect(rows.find((r) => r.status === 'FAILED')).toMatchObject({ recipient_role: 'PROVIDER', channel: 'EMAIL', attempts: 1 });
    expect((await outboxFor(event.eventId)).map((e) => e.type).sort()).toEqual(['NotificationFailed', 'NotificationSent', 'NotificationSent', 'NotificationSent']);
  });

  it('fails a reminder at once when the client has no address for its channel', async () => {
    const channels = scriptedChannels();
    const event = reminderDue({ channel: 'PUSH' });
    await handler(channels).handle(event);
    expect(channels.PUSH.sent).toHaveLength(0);
    const [failed] = await outboxFor(event.eventId);
    expect(failed).toMatchObject({
      type: 'NotificationFailed',
      data: { reminderId: event.data.reminderId, channel: 'PUSH', recipientRole: 'CLIENT', error: 'the client has no push endpoint' },
    });
  });

  it('leaves a delivery claimed by an attempt that died alone until its lease runs out, then sends it again', async () => {
    const channels = scriptedChannels();
    const event = confirmed({ provider: { timeZone: 'America/New_York' }, client: { timeZone: 'Asia/Tokyo', email: 'crash@example.jp' } });
    const notify = handler(channels);
    // An instance registered and claimed the delivery, then died before recording the outcome. Its
    // lease is long enough that the first attempt below surely falls inside it on a loaded machine.
    const [row] = await repository.register(event, [{ role: 'CLIENT', channel: 'EMAIL', contact: event.data.client, address: 'crash@example.jp' }]);
    const dead = await repository.claim(row.id, 3000);
    expect(dead.kind).toBe('claimed');
    await expect(notify.handle(event)).rejects.toThrow('1 held by another attempt');
    expect(channels.EMAIL.sent).toHaveLength(0);
    const leaseExpired = async () =>
      (await knex.withSchema(SCHEMA).table('deliveries').where({ id: row.id }).first(knex.raw('lease_expires_at <= now() AS expired'))).expired === true;
    expect(await leaseExpired()).toBe(false);
    await eventually(leaseExpired, 20000, 'the dead claim\'s lease to run out');
    await notify.handle(event);
    expect(channels.EMAIL.to('crash@example.jp')).toHaveLength(1);
    expect((await repository.forEvent(event.eventId))[0]).toMatchObject({ status: 'SENT', attempts: 2 });
    // The dead instance's claim is worthless now: it cannot record an outcome over the new one.
    if (dead.kind === 'claimed') {
      const late = await repository.markSent(dead.claim, 'late', {
        topic: 'notification.v1',
        type: 'NotificationSent',
        aggregateId: 'x',
        aggregateVersion: 1,
        data: { sourceEventId: event.eventId },
      });
      expect(late).toBe(false);
    }
    expect(await outboxFor(event.eventId)).toHaveLength(1);
  });
});
