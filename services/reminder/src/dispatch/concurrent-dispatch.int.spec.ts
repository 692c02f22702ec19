import { INestApplication } from '@nestjs/common';
import { Knex } from 'knex';
import { TOPICS } from '@booking/contracts';
import { Platform } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { KafkaTestClient, ReceivedMessage } from '../testing/kafka-test-client';
import { startReminderApp } from '../testing/reminder-app';
import { seedScheduledReminders } from '../testing/seed';
import { SettableClock } from '../testing/settable-clock';
import { ReminderWorkers } from './reminder-workers';

const COUNT = 10_000;

/**
 * Two service instances with two dispatch loops each (four workers, four connections) race over one
 * queue of 10,000 due reminders. Each must leave exactly once: one DISPATCHED row with one attempt,
 * and one ReminderDue event (one event id) on the topic.
 */
describe('dispatch: 10,000 due reminders, 4 concurrent workers', () => {
  const env = new TestEnvironment();
  const t0 = new Date('2031-05-01T08:00:00.000Z');
  const clock = new SettableClock(t0);
  const kafka = new KafkaTestClient(env);
  const apps: INestApplication[] = [];
  let knex: Knex;
  let seeded: string[];
  let published: ReceivedMessage[];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) apps.push(await startReminderApp(env, clock, { REMINDER_WORKERS: '2', REMINDER_BATCH_SIZE: '50' }));
    knex = apps[0].get(Platform).knex;
    // Due one to two minutes after t0: nothing is due until the clock moves, so all four loops are polling when it does.
    seeded = await seedScheduledReminders(knex, { count: COUNT, perAppointment: 4, fireAt: (i) => new Date(t0.getTime() + 60_000 + i * 6) });
    published = await kafka.collect(TOPICS.reminder);
  });

  afterAll(async () => {
    await kafka.close();
    for (const app of apps) await app.close();
    await env.destroy();
  });

  const countBy = async (status: string) =>
    Number((await knex('reminders').where({ status }).count<{ count: string }[]>('* as count'))[0].count);

  it('dispatches each reminder exactly once and the relay delivers each ReminderDue', async () => {
    expect(await countBy('SCHEDULED')).toBe(COUNT);
    clock.set(new Date(t0.getTime() + 3_600_000));

    await eventually(async () => (await countBy('SCHEDULED')) === 0, 45000, 'queue drained');
    const rows = await knex('reminders').select('reminder_id', 'status', 'attempts');
    expect(rows).toHaveLength(COUNT);
    expect(rows.filter((r) => r.status === 'DISPATCHED' && r.attempts === 1)).toHaveLength(COUNT);

    const stats = apps.flatMap((app) => app.get(ReminderWorkers).stats());
    expect(stats).toHaveLength(4);
    expect(stats.reduce((sum, s) => sum + s.dispatched, 0)).toBe(COUNT);
    expect(stats.every((s) => s.dispatched > 0)).toBe(true);

    await eventually(async () => published.length >= COUNT, 45000, `${COUNT} ReminderDue on the topic`);
    const eventIdsByReminder = new Map<string, Set<string>>();
    for (const message of published) {
      expect(message.envelope.type).toBe('ReminderDue');
      const reminderId = message.envelope.data.reminderId as string;
      const ids = eventIdsByReminder.get(reminderId) ?? new Set<string>();
      ids.add(message.envelope.eventId);
      eventIdsByReminder.set(reminderId, ids);
    }
    expect([...eventIdsByReminder.keys()].sort()).toEqual([...seeded].sort());
    expect([...eventIdsByReminder.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    await eventually(async () => Number((await knex('outbox').count<{ count: string }[]>('* as count'))[0].count) === 0, 20000, 'outbox empty');
  });
});
