import { Consumer, Kafka, logLevel } from 'kafkajs';
import { Platform } from '../platform';
import { eventually, TestEnvironment } from '../testing';
import { appendToOutbox } from './outbox';
import { OutboxRelay } from './outbox-relay';

/** The relay against the real database and broker: late commits, a lost session, one active relay. */
describe('outbox relay (real Kafka and Postgres)', () => {
  const env = new TestEnvironment();
  const topic = 'relaytest.v1';
  let platform: Platform;
  let reader: Consumer;
  const received: { key: string; type: string; eventId: string }[] = [];

  beforeAll(async () => {
    platform = new Platform({ service: 'delta', schema: 'delta', migrations: [], topics: [topic], config: { ...env.baseConfig(), OUTBOX_POLL_INTERVAL_MS: 5000, OUTBOX_VACUUM_EVERY_ROWS: 20 } });
    await platform.start();
    // The producer connects and the topics are made in the background.
    await eventually(async () => platform.readiness().details.kafka.status === 'up', 30000, 'Kafka connected');
    const kafka = new Kafka({ brokers: env.baseConfig().KAFKA_BROKERS.split(','), clientId: `${env.id}-reader`, logLevel: logLevel.NOTHING });
    reader = kafka.consumer({ groupId: `${env.id}-reader`, maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topic: platform.topic(topic), fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const envelope = JSON.parse(String(message.value));
        received.push({ key: String(message.key), type: envelope.type, eventId: envelope.eventId });
      },
    });
  });

  afterAll(async () => {
    await reader?.disconnect();
    await platform?.stop();
    await env.destroy();
  });

  const emit = (key: string, type = 'ThingHappened') =>
    platform.knex.transaction((trx) => appendToOutbox(trx, 'delta', [{ topic, type, aggregateId: key, aggregateVersion: 1, data: {} }]));
  const arrived = (key: string) => eventually(async () => received.find((m) => m.key === key), 20000, `${key} on the topic`);
  const outboxCount = async () => Number((await platform.knex.withSchema('delta').table('outbox').count<{ n: string }[]>('* as n'))[0].n);

  it('publishes a row whose transaction commits after a later row was already published', async () => {
    // The slow transaction takes its id first and commits last: a watermark would skip it for good.
    const slow = await platform.knex.transaction();
    try {
      await appendToOutbox(slow, 'delta', [{ topic, type: 'ThingHappened', aggregateId: 'late', aggregateVersion: 1, data: {} }]);
      await emit('early');
      await arrived('early');
      expect(received.some((m) => m.key === 'late')).toBe(false);
      await slow.commit();
    } catch (error) {
      await slow.rollback();
      throw error;
    }
    await arrived('late');
    await eventually(async () => (await outboxCount()) === 0, 20000, 'outbox drained');
  });

  it('gives up the lock with a lost session, reconnects, and publishes again', async () => {
    expect(platform.relay.isLeader()).toBe(true);
    const { rows } = await platform.knex.raw(`SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'delta-relay' AND datname = current_database()`);
    expect(rows.some((r: { killed: boolean }) => r.killed)).toBe(true);
    await emit('after-reconnect');
    await arrived('after-reconnect');
    expect(platform.relay.isLeader()).toBe(true);
    await eventually(async () => (await outboxCount()) === 0, 20000, 'outbox drained');
  });

  it('vacuums its outbox in the background once it has deleted so many rows', async () => {
    // vacuum_count counts plain VACUUMs only (autovacuum has a counter of its own).
    const stats = async () =>
      (await platform.knex.raw(`SELECT vacuum_count::int AS vacuums FROM pg_stat_user_tables WHERE relid = 'delta.outbox'::regclass`)).rows[0] as { vacuums: number };
    const before = await stats();
    for (let i = 0; i < 3; i++) {
      await platform.knex.transaction((trx) =>
        appendToOutbox(trx, 'delta', Array.from({ length: 20 }, (_, j) => ({ topic, type: 'ThingHappened', aggregateId: `vacuum-${i}-${j}`, aggregateVersion: 1, data: {} }))),
      );
    }
    await arrived('vacuum-2-19');
    await eventually(async () => (await stats()).vacuums > before.vacuums, 20000, 'a vacuum of the outbox');
    await eventually(async () => (await outboxCount()) === 0, 20000, 'outbox drained');
  });

  it('deletes a sent row within the poll interval, without another notification', async () => {
    // A relay of its own (nothing wakes it but its poll), on a copy of the outbox table in a schema of its own.
    const pollIntervalMs = 1500;
    await platform.knex.raw(`CREATE SCHEMA epsilon; CREATE TABLE epsilon.outbox (LIKE delta.outbox INCLUDING ALL)`);
    const relay = new OutboxRelay(platform.producer, platform.logger, { connection: env.databaseUrl, schema: 'epsilon', namespace: env.namespace, pollIntervalMs });
    await relay.start();
    try {
      await eventually(async () => relay.isLeader(), 20000, 'the relay to be active');
      await platform.knex.transaction((trx) => appendToOutbox(trx, 'epsilon', [{ topic, type: 'ThingHappened', aggregateId: 'polled', aggregateVersion: 1, data: {} }]));
      await arrived('polled');
      const rows = () => platform.knex.withSchema('epsilon').table('outbox').where({ message_key: 'polled' });
      // Generous for a loaded machine, yet short of a second interval: a relay that deleted a sent row
      // only on a later notification, or two rounds later, fails here.
      await eventually(async () => (await rows()).length === 0, pollIntervalMs + 1400, `the sent row deleted within ${pollIntervalMs} ms`);
    } finally {
      await relay.stop();
    }
  });

  it('lets one relay of a schema be active; a standby takes over when it stops', async () => {
    const standby = new OutboxRelay(platform.producer, platform.logger, {
      connection: env.databaseUrl,
      schema: 'delta',
      namespace: env.namespace,
      pollIntervalMs: 100,
    });
    standby.start();
    try {
      await emit('while-two');
      await arrived('while-two');
      expect([platform.relay.isLeader(), standby.isLeader()]).toEqual([true, false]);
      await platform.relay.stop();
      await eventually(async () => standby.isLeader(), 20000, 'the standby to take over');
      await emit('after-takeover');
      await arrived('after-takeover');
      await eventually(async () => (await outboxCount()) === 0, 20000, 'outbox drained');
      // Nothing was published twice on the way.
      const ids = received.map((m) => m.eventId);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await standby.stop();
    }
  });
});
