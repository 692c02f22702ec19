import { randomUUID } from 'node:crypto';
import { Envelope, dlqTopic } from '@booking/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { handleOnce } from './inbox/inbox';
import { appendToOutbox } from './outbox/outbox';
import { Platform } from './platform';
import { eventually, TestEnvironment } from './testing';
import { withCorrelation } from './logging/correlation';

/**
 * Two services on the real broker and the real database: `alpha` writes events to its outbox, its relay
 * publishes them, and `beta` consumes them in its own group, idempotently through its inbox.
 */
describe('platform: outbox → Kafka → consumer', () => {
  const env = new TestEnvironment();
  const topic = 'platformtest.v1';
  let alpha: Platform;
  let beta: Platform;
  const seen: Envelope[] = [];
  const failures = new Map<string, number>();

  const platform = (service: string) =>
    new Platform({ service, schema: service, migrations: [], topics: [topic], config: env.baseConfig() });

  async function emit(aggregateId: string, data: Record<string, unknown>, type = 'ThingHappened') {
    await alpha.knex.transaction((trx) =>
      appendToOutbox(trx, 'alpha', [{ topic, type, aggregateId, aggregateVersion: 1, data }]),
    );
  }

  async function dlqMessages(): Promise<{ key: string; value: string; headers: Record<string, string> }[]> {
    const kafka = new Kafka({ brokers: env.baseConfig().KAFKA_BROKERS.split(','), clientId: `${env.id}-dlq-reader`, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(alpha.topic(dlqTopic(topic)));
    await admin.disconnect();
    const total = offsets.reduce((n, o) => n + Number(o.high), 0);
    if (total === 0) return [];
    const consumer = kafka.consumer({ groupId: `${env.id}-dlq-${Date.now()}` });
    const out: { key: string; value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: alpha.topic(dlqTopic(topic)), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        out.push({ key: String(message.key), value: String(message.value), headers });
      },
    });
    await eventually(async () => out.length >= total, 15000, 'DLQ messages');
    await consumer.disconnect();
    return out;
  }

  beforeAll(async () => {
    alpha = platform('alpha');
    beta = platform('beta');
    await alpha.start();
    await beta.start();
    await beta.knex.schema.withSchema('beta').createTable('effects', (t) => {
      t.uuid('event_id').primary();
      t.text('value');
    });
    await beta.consume({
      groupId: 'beta',
      topics: [topic],
      maxAttempts: 3,
      initialBackoffMs: 20,
      handlers: {
        ThingHappened: async (event) => {
          if (event.data.fail === 'always') throw new Error('handler refuses this one');
          if (event.data.fail === 'twice' && (failures.get(event.eventId) ?? 0) < 2) {
            failures.set(event.eventId, (failures.get(event.eventId) ?? 0) + 1);
            throw new Error('transient');
          }
          await handleOnce(beta.knex, 'beta', 'beta-effects', event, async (trx) => {
            await trx.withSchema('beta').table('effects').insert({ event_id: event.eventId, value: String(event.data.value) });
          });
          seen.push(event);
        },
      },
    });
  });

  afterAll(async () => {
    await beta?.stop();
    await alpha?.stop();
    await env.destroy();
  });

  it('delivers an outbox event to another service with its envelope and correlation id', async () => {
    await withCorrelation({ correlationId: 'corr-123' }, () => emit('agg-1', { value: 'hello' }));
    const event = await eventually(async () => seen.find((e) => e.aggregateId === 'agg-1'), 20000, 'event in beta');
    expect(event).toMatchObject({ type: 'ThingHappened', aggregateId: 'agg-1', correlationId: 'corr-123', data: { value: 'hello' } });
    // A sent row is deleted by the relay's next round (at the next notification or poll, 1 s here).
    const outboxLeft = async () => Number((await alpha.knex.withSchema('alpha').table('outbox').count<{ count: string }[]>('* as count'))[0].count);
    await eventually(async () => (await outboxLeft()) === 0, 5000, 'the sent row deleted');
  });

  it('keeps per-key order across many events', async () => {
    for (let i = 0; i < 30; i++) await emit('ordered', { value: i });
    await eventually(async () => seen.filter((e) => e.aggregateId === 'ordered').length === 30, 20000, '30 ordered events');
    expect(seen.filter((e) => e.aggregateId === 'ordered').map((e) => e.data.value)).toEqual([...Array(30).keys()]);
  });

  it('retries a failing handler and applies the effect once', async () => {
    await emit('flaky', { value: 'eventually', fail: 'twice' });
    await eventually(async () => seen.some((e) => e.aggregateId === 'flaky'), 20000, 'flaky event handled');
    const rows = await beta.knex.withSchema('beta').table('effects').where({ value: 'eventually' });
    expect(rows).toHaveLength(1);
    expect([...failures.values()]).toContain(2);
  });

  it('dead-letters a message that keeps failing and a malformed one, and goes on with the partition', async () => {
    await emit('poison-key', { value: 'never', fail: 'always' });
    const producer = alpha.producer;
    await producer.send({ topic: alpha.topic(topic), messages: [{ key: 'poison-key', value: '{"not":"an envelope"}' }] });
    await emit('poison-key', { value: 'after-poison' });
    await eventually(async () => seen.some((e) => e.data.value === 'after-poison'), 20000, 'message after poison');
    const dead = await eventually(async () => {
      const messages = await dlqMessages();
      return messages.length >= 2 ? messages : undefined;
    }, 20000, 'two dead letters');
    const reasons = dead.map((m) => m.headers['dlq-reason']);
    expect(reasons.some((r) => r.includes('handler refuses this one'))).toBe(true);
    expect(reasons.some((r) => r.includes('invalid envelope'))).toBe(true);
    expect(dead.every((m) => m.key === 'poison-key')).toBe(true);
    expect(dead.every((m) => m.headers['dlq-original-topic'] === alpha.topic(topic))).toBe(true);
  });

  it('has no second effect when the same event is delivered twice', async () => {
    const envelope = await alpha.knex.transaction((trx) =>
      appendToOutbox(trx, 'alpha', [{ topic, type: 'ThingHappened', aggregateId: 'dup', aggregateVersion: 1, data: { value: 'dup' } }]),
    );
    await producerSendRaw(envelope[0]);
    await eventually(async () => seen.filter((e) => e.aggregateId === 'dup').length >= 2, 20000, 'both deliveries');
    const rows = await beta.knex.withSchema('beta').table('effects').where({ value: 'dup' });
    expect(rows).toHaveLength(1);
  });

  it('sweeps inbox rows older than INBOX_RETENTION_HOURS (168) and keeps the younger ones', async () => {
    const inbox = () => beta.knex.withSchema('beta').table('inbox');
    const ids = { old: randomUUID(), young: randomUUID() };
    await inbox().insert([
      { consumer: 'sweep-test', event_id: ids.old, event_type: 'ThingHappened', processed_at: beta.knex.raw(`now() - interval '169 hours'`) },
      { consumer: 'sweep-test', event_id: ids.young, event_type: 'ThingHappened', processed_at: beta.knex.raw(`now() - interval '167 hours'`) },
    ]);
    const everyOtherRow = Number((await inbox().whereNot({ consumer: 'sweep-test' }).count<{ n: string }[]>('* as n'))[0].n);

    expect(await beta.sweepInbox()).toBe(1);

    expect((await inbox().where({ consumer: 'sweep-test' }).select('event_id')).map((r: { event_id: string }) => r.event_id)).toEqual([ids.young]);
    expect(Number((await inbox().whereNot({ consumer: 'sweep-test' }).count<{ n: string }[]>('* as n'))[0].n)).toBe(everyOtherRow);
    expect(await beta.sweepInbox()).toBe(0);
  });

  it('publishes past an outbox row whose payload is not an envelope, so the relay never wedges', async () => {
    await alpha.knex.withSchema('alpha').table('outbox').insert({
      event_id: '00000000-0000-4000-8000-0000000000aa',
      topic,
      message_key: 'wedge',
      event_type: 'ThingHappened',
      payload: { not: 'an envelope' },
    });
    await emit('wedge', { value: 'after-bad-row' });
    await eventually(async () => seen.some((e) => e.data.value === 'after-bad-row'), 20000, 'the event after the bad row');
    // Both rows were sent, so the relay's next round (at the next notification or poll) deletes both.
    const left = async () => Number((await alpha.knex.withSchema('alpha').table('outbox').count<{ count: string }[]>('* as count'))[0].count);
    await eventually(async () => (await left()) === 0, 5000, 'both sent rows deleted');
  });

  async function producerSendRaw(envelope: Envelope) {
    await alpha.producer.send({ topic: alpha.topic(topic), messages: [{ key: envelope.aggregateId, value: JSON.stringify(envelope) }] });
  }
});
