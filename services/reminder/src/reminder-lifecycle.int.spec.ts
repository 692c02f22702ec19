import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Knex } from 'knex';
import { dlqTopic, TOPICS } from '@booking/contracts';
import { Platform } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { ReminderView } from './reminders/reminders.repository';
import { cancelled, confirmed, notificationFailed, notificationSent, rescheduled, weekAfter } from './testing/fixtures';
import { KafkaTestClient, ReceivedMessage } from './testing/kafka-test-client';
import { baseUrl, startReminderApp } from './testing/reminder-app';
import { SettableClock } from './testing/settable-clock';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/**
 * The service end to end on the real broker and database: appointment events in through Kafka,
 * reminders in Postgres, ReminderDue out through the outbox, outcomes back in, and the HTTP listing.
 * The clock is a settable one, so "24 hours before" is a clock move, not a wait.
 */
describe('reminder service: appointment events → reminders → ReminderDue → outcome', () => {
  const env = new TestEnvironment();
  const clock = new SettableClock(new Date('2031-01-06T09:00:00.000Z'));
  const kafka = new KafkaTestClient(env);
  let app: INestApplication;
  let knex: Knex;
  let url: string;
  let reminderDue: ReceivedMessage[];
  let appointmentDlq: ReceivedMessage[];
  let notificationDlq: ReceivedMessage[];

  beforeAll(async () => {
    app = await startReminderApp(env, clock);
    knex = app.get(Platform).knex;
    url = await baseUrl(app);
    [reminderDue, appointmentDlq, notificationDlq] = await Promise.all([
      kafka.collect(TOPICS.reminder),
      kafka.collect(dlqTopic(TOPICS.appointment)),
      kafka.collect(dlqTopic(TOPICS.notification)),
    ]);
  });

  afterAll(async () => {
    await kafka.close();
    await app?.close();
    await env.destroy();
  });

  async function list(appointmentId: string): Promise<ReminderView[]> {
    const response = await fetch(`${url}/reminders?appointmentId=${encodeURIComponent(appointmentId)}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { reminders: ReminderView[] }).reminders;
  }

  const handled = (eventId: string) =>
    eventually(async () => (await knex('inbox').where({ event_id: eventId }).first()) !== undefined, 20000, `event ${eventId} handled`);

  const dueFor = (reminderId: string) => reminderDue.filter((m) => m.envelope.data.reminderId === reminderId);

  it('plans one reminder per client channel and offset when the appointment is confirmed', async () => {
    const appointmentId = randomUUID();
    const start = weekAfter(clock.now());
    await kafka.publish(TOPICS.appointment, confirmed({ appointmentId, version: 2, start }));

    const reminders = await eventually(async () => {
      const found = await list(appointmentId);
      return found.length === 6 ? found : undefined;
    }, 20000, 'six reminders');
    expect(reminders.map((r) => [r.channel, r.offsetMinutes, r.status, r.fireAt])).toEqual([
      ['EMAIL', 1440, 'SCHEDULED', new Date(start.getTime() - 24 * HOUR).toISOString()],
      ['PUSH', 1440, 'SCHEDULED', new Date(start.getTime() - 24 * HOUR).toISOString()],
      ['SMS', 1440, 'SCHEDULED', new Date(start.getTime() - 24 * HOUR).toISOString()],
      ['EMAIL', 60, 'SCHEDULED', new Date(start.getTime() - HOUR).toISOString()],
      ['PUSH', 60, 'SCHEDULED', new Date(start.getTime() - HOUR).toISOString()],
      ['SMS', 60, 'SCHEDULED', new Date(start.getTime() - HOUR).toISOString()],
    ]);
    expect(reminders.every((r) => r.attempts === 0 && r.dispatchedAt === null)).toBe(true);
  });

  it('records the 24 h reminder of an appointment confirmed 3 h ahead as SKIPPED, and never sends it', async () => {
    const appointmentId = randomUUID();
    const event = confirmed({ appointmentId, version: 2, start: new Date(clock.now().getTime() + 3 * HOUR), client: { timeZone: 'UTC', email: 'a@example.com' } });
    await kafka.publish(TOPICS.appointment, event);
    await handled(event.eventId);
    expect((await list(appointmentId)).map((r) => `${r.offsetMinutes}:${r.status}`)).toEqual(['1440:SKIPPED', '60:SCHEDULED']);
  });

  it('cancels every reminder that has not fired when the appointment is cancelled', async () => {
    const appointmentId = randomUUID();
    const control = randomUUID();
    const start = weekAfter(clock.now());
    const client = { timeZone: 'UTC', email: 'a@example.com' };
    await kafka.publish(TOPICS.appointment, confirmed({ appointmentId, version: 2, start, client }), confirmed({ appointmentId: control, version: 2, start, client }));
    await eventually(async () => (await list(appointmentId)).length === 2 && (await list(control)).length === 2, 20000, 'two plans');

    clock.set(new Date(start.getTime() - 24 * HOUR));
    const fired = await eventually(async () => (await list(appointmentId)).find((r) => r.status === 'DISPATCHED'), 20000, '24 h reminder dispatched');
    expect(fired.offsetMinutes).toBe(1440);

    const cancel = cancelled({ appointmentId, version: 3, start, client });
    await kafka.publish(TOPICS.appointment, cancel);
    await handled(cancel.eventId);
    expect((await list(appointmentId)).map((r) => `${r.offsetMinutes}:${r.status}`)).toEqual(['1440:DISPATCHED', '60:CANCELLED']);

    // Past the 1 h fire time: the control appointment's reminder going out shows the workers looked.
    clock.set(new Date(start.getTime() - 30 * MINUTE));
    await eventually(async () => (await list(control)).every((r) => r.status === 'DISPATCHED'), 20000, 'control reminders dispatched');
    const oneHour = (await list(appointmentId)).find((r) => r.offsetMinutes === 60)!;
    expect(oneHour.status).toBe('CANCELLED');
    expect(dueFor(oneHour.reminderId)).toHaveLength(0);
  });

  it('moves the reminders when the appointment is rescheduled: old ones cancelled, new ones planned', async () => {
    const appointmentId = randomUUID();
    const client = { timeZone: 'UTC', phone: '+14155550100' };
    const start = weekAfter(clock.now());
    const newStart = new Date(start.getTime() + 2 * 24 * HOUR);
    await kafka.publish(TOPICS.appointment, confirmed({ appointmentId, version: 2, start, client }));
    await eventually(async () => (await list(appointmentId)).length === 2, 20000, 'first plan');
    const move = rescheduled({ appointmentId, version: 3, start: newStart, previousStart: start, client });
    await kafka.publish(TOPICS.appointment, move);
    await handled(move.eventId);

    const reminders = await list(appointmentId);
    expect(reminders.map((r) => `${r.status}:${r.fireAt}`)).toEqual([
      `CANCELLED:${new Date(start.getTime() - 24 * HOUR).toISOString()}`,
      `CANCELLED:${new Date(start.getTime() - HOUR).toISOString()}`,
      `SCHEDULED:${new Date(newStart.getTime() - 24 * HOUR).toISOString()}`,
      `SCHEDULED:${new Date(newStart.getTime() - HOUR).toISOString()}`,
    ]);
  });

  it('keeps a cancellation that overtook its confirmation: the late Confirmed plans nothing', async () => {
    const appointmentId = randomUUID();
    const start = weekAfter(clock.now());
    const late = confirmed({ appointmentId, version: 2, start });
    await kafka.publish(TOPICS.appointment, cancelled({ appointmentId, version: 3, start }), late);
    await handled(late.eventId);
    expect(await list(appointmentId)).toEqual([]);
    expect(await knex('appointments').where({ appointment_id: appointmentId }).first()).toMatchObject({ status: 'CANCELLED', version: 3 });
  });

  it('ignores a Confirmed older than the reschedule already applied', async () => {
    const appointmentId = randomUUID();
    const client = { timeZone: 'UTC', email: 'a@example.com' };
    const start = weekAfter(clock.now());
    const newStart = new Date(start.getTime() + 24 * HOUR);
    const stale = confirmed({ appointmentId, version: 2, start, client });
    await kafka.publish(TOPICS.appointment, rescheduled({ appointmentId, version: 3, start: newStart, previousStart: start, client }), stale);
    await handled(stale.eventId);
    const reminders = await list(appointmentId);
    expect(reminders.map((r) => `${r.status}:${r.fireAt}`)).toEqual([
      `SCHEDULED:${new Date(newStart.getTime() - 24 * HOUR).toISOString()}`,
      `SCHEDULED:${new Date(newStart.getTime() - HOUR).toISOString()}`,
    ]);
  });

  it('has no second effect when the same Confirmed is delivered twice', async () => {
    const appointmentId = randomUUID();
    const event = confirmed({ appointmentId, version: 2, start: weekAfter(clock.now()), client: { timeZone: 'UTC', email: 'a@example.com' } });
    // A stale event on the same key comes after both deliveries in the partition: once it is handled, so is the duplicate.
    const marker = confirmed({ appointmentId, version: 1, start: weekAfter(clock.now()) });
    await kafka.publish(TOPICS.appointment, event, event, marker);
    await handled(marker.eventId);
    expect(await list(appointmentId)).toHaveLength(2);
  });

  it('publishes a due reminder as ReminderDue exactly once, then records the delivery outcome', async () => {
    const appointmentId = randomUUID();
    const start = weekAfter(clock.now());
    const client = { timeZone: 'Asia/Tokyo', email: 'ken@example.com', locale: 'ja-JP' };
    await kafka.publish(TOPICS.appointment, confirmed({ appointmentId, version: 2, start, client }));
    const [dayBefore, hourBefore] = await eventually(async () => {
      const found = await list(appointmentId);
      return found.length === 2 ? found : undefined;
    }, 20000, 'plan');

    clock.set(dayBefore.fireAt);
    const [first] = await eventually(async () => (dueFor(dayBefore.reminderId).length > 0 ? dueFor(dayBefore.reminderId) : undefined), 20000, 'ReminderDue');
    expect(first.key).toBe(appointmentId);
    expect(first.headers['event-type']).toBe('ReminderDue');
    expect(first.envelope).toMatchObject({
      type: 'ReminderDue',
      aggregateId: appointmentId,
      aggregateVersion: 2,
      data: {
        reminderId: dayBefore.reminderId,
        appointmentId,
        channel: 'EMAIL',
        offsetMinutes: 1440,
        fireAt: dayBefore.fireAt,
        start: start.toISOString(),
        end: new Date(start.getTime() + 30 * MINUTE).toISOString(),
        client,
        provider: { email: 'grace@example.com' },
      },
    });
    const dispatched = (await list(appointmentId))[0];
    expect(dispatched).toMatchObject({ status: 'DISPATCHED', attempts: 1, dispatchedAt: dayBefore.fireAt });

    // The worker keeps polling meanwhile; the next reminder arriving proves it had every chance to send the first again.
    clock.set(hourBefore.fireAt);
    await eventually(async () => dueFor(hourBefore.reminderId).length > 0, 20000, 'second ReminderDue');
    expect(dueFor(dayBefore.reminderId)).toHaveLength(1);
    expect(dueFor(hourBefore.reminderId)).toHaveLength(1);

    await kafka.publish(TOPICS.notification, notificationFailed(appointmentId, dayBefore.reminderId, 'SMTP 451 try later'));
    await kafka.publish(TOPICS.notification, notificationSent(appointmentId, hourBefore.reminderId));
    const outcomes = await eventually(async () => {
      const found = await list(appointmentId);
      return found[0].status === 'FAILED' && found[1].status === 'SENT' ? found : undefined;
    }, 20000, 'outcomes');
    expect(outcomes[0].lastError).toBe('SMTP 451 try later');
    expect(outcomes[1].lastError).toBeNull();

    const retried = notificationSent(appointmentId, dayBefore.reminderId);
    const tooLate = notificationFailed(appointmentId, hourBefore.reminderId, 'too late');
    await kafka.publish(TOPICS.notification, retried, tooLate);
    await handled(retried.eventId);
    await handled(tooLate.eventId);
    const final = await list(appointmentId);
    expect(final.map((r) => r.status)).toEqual(['SENT', 'SENT']);
    expect(final[1].lastError).toBeNull();
  });

  it('ignores deliveries that are not reminders and dead-letters outcomes for unknown reminders', async () => {
    const appointmentId = randomUUID();
    const notReminder = notificationSent(appointmentId, null);
    const unknown = notificationSent(appointmentId, randomUUID());
    const foreign = notificationSent(appointmentId, 'not-a-reminder-id');
    await kafka.publish(TOPICS.notification, notReminder, unknown, foreign);
    const dead = await eventually(async () => (notificationDlq.length >= 2 ? notificationDlq : undefined), 20000, 'two dead letters');
    const reason = (eventId: string) => dead.find((m) => m.envelope.eventId === eventId)?.headers['dlq-reason'];
    expect(dead).toHaveLength(2);
    expect(reason(unknown.eventId)).toContain('unknown reminder');
    expect(reason(foreign.eventId)).toContain('not a reminder of this service');
    expect(await knex('inbox').where({ event_id: notReminder.eventId }).first()).toBeUndefined();
  });

  it('dead-letters an appointment event whose end is not after its start, and goes on', async () => {
    const appointmentId = randomUUID();
    const bad = confirmed({ appointmentId, version: 2, start: weekAfter(clock.now()), durationMinutes: 0 });
    const good = confirmed({ appointmentId: randomUUID(), version: 2, start: weekAfter(clock.now()) });
    await kafka.publish(TOPICS.appointment, bad, good);
    await handled(good.eventId);
    const dead = await eventually(async () => appointmentDlq.find((m) => m.envelope.eventId === bad.eventId), 20000, 'dead letter');
    expect(dead.headers['dlq-reason']).toContain('end');
    expect(await list(appointmentId)).toEqual([]);
  });

  it('validates the listing query as problem+json', async () => {
    const missing = await fetch(`${url}/reminders`);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(await missing.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'query.appointmentId' }] });
    const unknownParam = await fetch(`${url}/reminders?appointmentId=a&status=SENT`);
    expect(unknownParam.status).toBe(400);
    const tooLong = await fetch(`${url}/reminders?appointmentId=${'x'.repeat(101)}`);
    expect(tooLong.status).toBe(400);
    // Text Postgres cannot store is refused before any query: NUL, and a lone surrogate (as its CESU bytes).
    for (const bad of ['a%00b', 'a%ED%A0%80']) {
      const refused = await fetch(`${url}/reminders?appointmentId=${bad}`);
      expect({ bad, status: refused.status, body: await refused.json() }).toMatchObject({ bad, status: 400, body: { code: 'VALIDATION_FAILED', errors: [{ path: 'query.appointmentId' }] } });
    }
    const unknown = await fetch(`${url}/reminders?appointmentId=nobody`);
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toEqual({ appointmentId: 'nobody', reminders: [] });
  });
});
