import { Envelope, dlqTopic } from '@booking/contracts';
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { Knex } from 'knex';
import { claimInbox, handleOnce } from '../inbox/inbox';
import { buildEnvelope } from '../outbox/outbox';
import { OffsetCommitter } from './event-consumer';
import { Platform } from '../platform';
import { eventually, TestEnvironment } from '../testing';

/**
 * The consumer's batch machinery on the real broker and database: batch handlers with their
 * message-by-message fallback, per-key lanes, and offsets that never pass an unfinished message.
 * Messages are written to one partition in one produce request, so the consumer's first fetch sees
 * them as one batch.
 */
describe('event consumer: batches, lanes and offsets (real Kafka and Postgres)', () => {
  const env = new TestEnvironment();
  const batchTopic = 'consumerbatch.v1';
  const laneTopic = 'consumerlanes.v1';
  let platform: Platform;
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;

  beforeAll(async () => {
    platform = new Platform({ service: 'gamma', schema: 'gamma', migrations: [], topics: [batchTopic, laneTopic], config: env.baseConfig() });
    await platform.start();
    await platform.knex.schema.withSchema('gamma').createTable('effects', (t) => {
      t.uuid('event_id').primary();
      t.text('key');
      t.integer('seq');
    });
    kafka = new Kafka({ brokers: env.baseConfig().KAFKA_BROKERS.split(','), clientId: `${env.id}-test`, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterAll(async () => {
    await Promise.all([producer?.disconnect(), admin?.disconnect()]);
    await platform?.stop();
    await env.destroy();
  });

  const envelope = (key: string, seq: number, extra: Record<string, unknown> = {}): Envelope =>
    buildEnvelope({ topic: batchTopic, type: 'ThingHappened', aggregateId: key, aggregateVersion: seq, data: { seq, ...extra } });

  /** All messages in one produce request to one partition; returns their offsets. */
  async function publishTogether(topic: string, partition: number, events: Envelope[]): Promise<number[]> {
    const [meta] = await producer.send({
      topic: platform.topic(topic),
      acks: -1,
      messages: events.map((e) => ({ key: e.aggregateId, value: JSON.stringify(e), partition })),
    });
    return events.map((_, i) => Number(meta.baseOffset) + i);
  }

  const committed = async (group: string, topic: string, partition: number) => {
    const [offsets] = await admin.fetchOffsets({ groupId: platform.topic(group), topics: [platform.topic(topic)] });
    return Number(offsets.partitions.find((p) => p.partition === partition)?.offset ?? -1);
  };

  const effect = (trx: Knex.Transaction, event: Envelope) => {
    if (event.data.fail === 'always') throw new Error(`refusing ${event.aggregateId}`);
    return trx.withSchema('gamma').table('effects').insert({ event_id: event.eventId, key: event.aggregateId, seq: event.data.seq }).then(() => undefined);
  };

  it('commits the good messages of a batch once, dead-letters the poison in its middle and goes on', async () => {
    const events = [envelope('a', 1), envelope('b', 1), envelope('poison', 1, { fail: 'always' }), envelope('c', 1), envelope('d', 1)];
    const offsets = await publishTogether(batchTopic, 0, events);
    const batchCalls: string[][] = [];
    const singleCalls: string[] = [];
    await platform.consume({
      groupId: 'gamma-batch',
      topics: [batchTopic],
      maxAttempts: 2,
      initialBackoffMs: 10,
      handlers: {
        ThingHappened: async (event) => {
          singleCalls.push(event.aggregateId);
          await handleOnce(platform.knex, 'gamma', 'gamma-effects', event, async (trx) => {
            await effect(trx, event);
          });
        },
      },
      batchHandlers: {
        ThingHappened: async (batch) => {
          batchCalls.push(batch.map((e) => e.aggregateId));
          await platform.knex.transaction(async (trx) => {
            for (const event of await claimInbox(trx, 'gamma', 'gamma-effects', batch)) await effect(trx, event);
          });
        },
      },
    });

    await eventually(async () => (await committed('gamma-batch', batchTopic, 0)) === offsets[4] + 1, 20000, 'offsets committed past the batch');
    // The first fetch held the whole batch; the poison made the batch transaction roll back, so every
    // message was then handled on its own: the good ones once, the poison retried and dead-lettered.
    expect(batchCalls[0]).toEqual(['a', 'b', 'poison', 'c', 'd']);
    expect(singleCalls.filter((k) => k !== 'poison')).toEqual(['a', 'b', 'c', 'd']);
    expect(singleCalls.filter((k) => k === 'poison')).toHaveLength(2);
    const rows = await platform.knex.withSchema('gamma').table('effects').whereIn('event_id', events.map((e) => e.eventId)).orderBy('key');
    expect(rows.map((r) => r.key)).toEqual(['a', 'b', 'c', 'd']);
    const inbox = await platform.knex.withSchema('gamma').table('inbox').whereIn('event_id', events.map((e) => e.eventId));
    expect(inbox).toHaveLength(4);

    const dead = await readAll(dlqTopic(platform.topic(batchTopic)), 1);
    expect(dead).toHaveLength(1);
    expect(dead[0].key).toBe('poison');
    expect(dead[0].headers['dlq-original-offset']).toBe(String(offsets[2]));
    expect(dead[0].headers['dlq-reason']).toContain('refusing poison');

    // A batch without a poison is one transaction, and a key seen twice starts a new run.
    const more = [envelope('e', 1), envelope('f', 1), envelope('e', 2), envelope('g', 1)];
    const moreOffsets = await publishTogether(batchTopic, 0, more);
    await eventually(async () => (await committed('gamma-batch', batchTopic, 0)) === moreOffsets[3] + 1, 20000, 'second batch committed');
    expect(batchCalls.slice(1)).toEqual([['e', 'f'], ['e', 'g']]);
    const second = await platform.knex.withSchema('gamma').table('effects').whereIn('event_id', more.map((e) => e.eventId)).orderBy([{ column: 'key' }, { column: 'seq' }]);
    expect(second.map((r) => `${r.key}${r.seq}`)).toEqual(['e1', 'e2', 'f1', 'g1']);
  });

  it('runs keys side by side in order, and never commits past a message still running', async () => {
    const keys = ['k1', 'k2', 'slow'];
    const events = Array.from({ length: 8 }, (_, seq) => keys.map((key) => envelope(key, seq))).flat();
    const offsets = await publishTogether(laneTopic, 1, events);
    const slowFirst = offsets[events.findIndex((e) => e.aggregateId === 'slow')];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    let running = 0;
    let widest = 0;
    // Every offset the consumer hands its committer for this partition, as it hands it over.
    const offer = jest.spyOn(OffsetCommitter.prototype, 'offer');
    const offered = () => offer.mock.calls.filter(([topic, partition]) => topic === platform.topic(laneTopic) && partition === 1).map(([, , offset]) => Number(offset));
    await platform.consume({
      groupId: 'gamma-lanes',
      topics: [laneTopic],
      keyConcurrency: 3,
      handlers: {
        ThingHappened: async (event) => {
          running++;
          widest = Math.max(widest, running);
          try {
            if (event.aggregateId === 'slow' && event.data.seq === 0) await gate;
            await new Promise((resolve) => setTimeout(resolve, 5));
            seen.push(`${event.aggregateId}:${event.data.seq}`);
          } finally {
            running--;
          }
        },
      },
    });

    try {
      // Everything of k1 and k2 is done while the first 'slow' message waits: the offset stays before it.
      await eventually(async () => seen.filter((s) => !s.startsWith('slow')).length === 16, 20000, 'the other keys');
      // The messages before the first 'slow' one (k1:0, k2:0) are done: the offset is committed exactly
      // up to it, and nothing past it was ever handed to the committer.
      await eventually(async () => (await committed('gamma-lanes', laneTopic, 1)) === slowFirst, 20000, 'the offset committed up to the running message');
      expect(Math.max(...offered())).toBe(slowFirst);
      expect(seen.some((s) => s.startsWith('slow'))).toBe(false);
    } finally {
      release();
      offer.mockRestore();
    }
    await eventually(async () => (await committed('gamma-lanes', laneTopic, 1)) === offsets[offsets.length - 1] + 1, 20000, 'all committed');
    for (const key of keys) expect(seen.filter((s) => s.startsWith(`${key}:`))).toEqual(Array.from({ length: 8 }, (_, seq) => `${key}:${seq}`));
    expect(widest).toBeGreaterThan(1);
  });

  async function readAll(topic: string, expected: number) {
    const out: { key: string; headers: Record<string, string> }[] = [];
    const reader = kafka.consumer({ groupId: `${env.id}-reader-${Date.now()}`, maxWaitTimeInMs: 100 });
    await reader.connect();
    try {
      await reader.subscribe({ topic, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          out.push({ key: String(message.key), headers });
        },
      });
      await eventually(async () => out.length >= expected, 20000, `${expected} messages in ${topic}`);
    } finally {
      await reader.disconnect();
    }
    return out;
  }
});
