import { randomUUID } from 'node:crypto';
import { ContractRegistry, eventContracts } from '@booking/contracts';
import { handleOnce } from '../inbox/inbox';
import { Platform } from '../platform';
import { eventually, TestEnvironment } from '../testing';
import { DeadLetters } from './dead-letters';
import { EventConsumer, EventHandler } from './event-consumer';

/**
 * A poison event on the real broker: a PaymentFailed written at version 1 reaches a consumer whose
 * contract is at version 2 (reason renamed failureCode) without an upcaster, and is dead-lettered
 * saying so. Once the upcaster is added, a replay delivers it; a second replay has no second effect.
 */
describe('dead letters: list, dry run, replay after an upcaster is added', () => {
  const env = new TestEnvironment();
  const topic = 'dlqtest.v1';
  let platform: Platform;
  let deadLetters: DeadLetters;
  let consumer: EventConsumer | undefined;
  const seen: Record<string, unknown>[] = [];

  const v2 = eventContracts.PaymentFailed.schema.omit({ reason: true }).extend({ failureCode: eventContracts.PaymentFailed.schema.shape.reason });
  const withoutUpcaster: ContractRegistry = { ...eventContracts, PaymentFailed: { ...eventContracts.PaymentFailed, version: 2, schema: v2, upcasters: {} } };
  const withUpcaster: ContractRegistry = {
    ...withoutUpcaster,
    PaymentFailed: { ...withoutUpcaster.PaymentFailed, upcasters: { 1: ({ reason, ...rest }) => ({ ...rest, failureCode: reason }) } },
  };

  const handler: EventHandler = async (event) => {
    await handleOnce(platform.knex, 'dlqtest', 'dlqtest', event, async (trx) => {
      await trx.withSchema('dlqtest').table('effects').insert({ event_id: event.eventId });
    });
    seen.push(event.data);
  };
  const consume = (contracts: ContractRegistry) =>
    platform.consume({ groupId: 'dlqtest', topics: [topic], maxAttempts: 2, initialBackoffMs: 20, contracts, handlers: { PaymentFailed: handler } });
  const effects = async () => Number((await platform.knex.withSchema('dlqtest').table('effects').count({ n: '*' }))[0].n);
  const end = async (name: string) => {
    const admin = platform.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(platform.topic(name));
    await admin.disconnect();
    return offsets.reduce((n, o) => n + Number(o.high), 0);
  };

  beforeAll(async () => {
    platform = new Platform({ service: 'dlqtest', schema: 'dlqtest', migrations: [], topics: [topic], config: env.baseConfig() });
    await platform.start();
    // The producer connects and the topics are made in the background: the test's own producer needs them.
    await eventually(async () => platform.readiness().details.kafka.status === 'up', 30000, 'Kafka connected');
    await platform.knex.schema.withSchema('dlqtest').createTable('effects', (t) => t.uuid('event_id').primary());
    deadLetters = new DeadLetters(platform.kafka, (name) => platform.topic(name));
  }, 60000);

  afterAll(async () => {
    await platform?.stop();
    await env.destroy();
  });

  it('dead-letters the unreadable version with its reason, and a replay after the fix is read once', async () => {
    consumer = await consume(withoutUpcaster);
    const appointmentId = `appt-${randomUUID()}`;
    const eventId = randomUUID();
    const envelope = {
      eventId,
      type: 'PaymentFailed',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: appointmentId,
      aggregateVersion: 1,
      correlationId: randomUUID(),
      causationId: null,
      data: { appointmentId, paymentId: randomUUID(), requestEventId: randomUUID(), reason: 'card_declined' },
    };
    const producer = platform.kafka.producer();
    await producer.connect();
    await producer.send({ topic: platform.topic(topic), messages: [{ key: appointmentId, value: JSON.stringify(envelope), headers: { 'event-id': eventId, 'event-type': 'PaymentFailed' } }] });
    await producer.disconnect();

    const [letter] = await eventually(async () => {
      const letters = (await deadLetters.list([topic])).filter((l) => l.eventId === eventId);
      return letters.length > 0 && letters;
    }, 30000, 'the dead letter');
    expect(letter).toMatchObject({
      type: 'PaymentFailed',
      originalTopic: platform.topic(topic),
      group: platform.topic('dlqtest'),
      reason: 'PaymentFailed schemaVersion 1 cannot be read: no upcaster from version 1 to 2',
    });
    expect(letter.key?.toString()).toBe(appointmentId);
    // A topic whose dead-letter topic was never created has none.
    expect(await deadLetters.list(['nosuchtopic.v1'])).toEqual([]);
    expect(seen).toHaveLength(0);
    await consumer.stop();

    // A dry run publishes nothing.
    const before = await end(topic);
    await deadLetters.replay([letter], { dryRun: true });
    expect(await end(topic)).toBe(before);

    // The fix: a consumer with the upcaster. The replay reaches it, upcast to version 2.
    consumer = await consume(withUpcaster);
    await deadLetters.replay([letter], { dryRun: false });
    await eventually(async () => seen.length === 1, 30000, 'the replayed event handled');
    expect(seen[0]).toMatchObject({ appointmentId, failureCode: 'card_declined' });
    expect(seen[0]).not.toHaveProperty('reason');

    // Replaying again is harmless: the inbox drops the event id it has handled.
    await deadLetters.replay([letter], { dryRun: false });
    await eventually(async () => (await end(topic)) === before + 2, 15000, 'the second replay on the topic');
    const consumed = async () => {
      const admin = platform.kafka.admin();
      await admin.connect();
      const [offsets] = await admin.fetchOffsets({ groupId: platform.topic('dlqtest'), topics: [platform.topic(topic)] });
      await admin.disconnect();
      return offsets.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    };
    await eventually(async () => (await consumed()) === before + 2, 30000, 'the consumer past both replays');
    expect(await effects()).toBe(1);
    await consumer.stop();
  });
});
