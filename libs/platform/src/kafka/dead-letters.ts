import { randomUUID } from 'node:crypto';
import { IHeaders, Kafka } from 'kafkajs';
import { dlqTopic, HEADER_EVENT_ID, HEADER_EVENT_TYPE } from '@booking/contracts';

/** One message of a `<topic>.dlq`, with what the consumer that gave up on it wrote in its dlq-* headers. */
export type DeadLetter = {
  /** The dead-letter topic it sits on, namespaced. */
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** From the event-id header, or the body when that is an envelope. */
  eventId: string | null;
  type: string | null;
  reason: string;
  /** Where it came from, namespaced: where a replay publishes it. */
  originalTopic: string;
  group: string;
};

const DLQ_HEADER = /^dlq-/;

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  return out;
}

function bodyField(value: Buffer | null, field: 'eventId' | 'type'): string | null {
  try {
    const parsed = JSON.parse(value?.toString('utf8') ?? '') as Record<string, unknown>;
    return typeof parsed[field] === 'string' ? (parsed[field] as string) : null;
  } catch {
    return null;
  }
}

/**
 * Reads and replays dead letters (`npm run dlq`). Reading takes every message of each dead-letter
 * topic up to its end at the time of the call, with a throwaway consumer group of its own (deleted
 * afterwards), so it never moves any service's offsets. A replay publishes the message to the topic it
 * came from with its key, value and original headers (the dlq-* ones dropped, `dlq-replayed-from`
 * added): every consumer group of that topic sees it again, and the inboxes make that harmless for the
 * groups that handled it the first time. The dead letter itself stays (a Kafka topic is append-only).
 */
export class DeadLetters {
  constructor(
    private readonly kafka: Kafka,
    /** Namespaces a topic name as the services do (Platform.topic / namespaced). */
    private readonly topicName: (name: string) => string,
  ) {}

  /**
   * Every dead letter of the given (un-namespaced) topics, in partition and offset order. A topic
   * whose dead-letter topic does not exist (no service of that namespace ever started) has none.
   */
  async list(topics: readonly string[]): Promise<DeadLetter[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics().finally(() => admin.disconnect()));
    const letters: DeadLetter[] = [];
    for (const topic of topics) {
      const name = this.topicName(dlqTopic(topic));
      if (existing.has(name)) letters.push(...(await this.read(name)));
    }
    return letters;
  }

  private async read(topic: string): Promise<DeadLetter[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = new Map(
        (await admin.fetchTopicOffsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
      );
      if (ends.size === 0) return [];
      const groupId = `dlq-reader-${randomUUID()}`;
      const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
      const letters: DeadLetter[] = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const pending = new Set(ends.keys());
          consumer
            .run({
              autoCommit: false,
              eachMessage: async ({ partition, message }) => {
                const end = ends.get(partition);
                if (end === undefined || BigInt(message.offset) >= end) return;
                const headers = headerText(message.headers);
                letters.push({
                  topic,
                  partition,
                  offset: message.offset,
                  key: message.key,
                  value: message.value,
                  headers,
                  eventId: headers[HEADER_EVENT_ID] ?? bodyField(message.value, 'eventId'),
                  type: headers[HEADER_EVENT_TYPE] ?? bodyField(message.value, 'type'),
                  reason: headers['dlq-reason'] ?? '',
                  originalTopic: headers['dlq-original-topic'] ?? topic.replace(/\.dlq$/, ''),
                  group: headers['dlq-consumer-group'] ?? '',
                });
                if (BigInt(message.offset) + 1n >= end) {
                  pending.delete(partition);
                  if (pending.size === 0) resolve();
                }
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
        await admin.deleteGroups([groupId]).catch(() => undefined);
      }
      return letters.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    } finally {
      await admin.disconnect();
    }
  }

  /** Publishes each dead letter back to its original topic (unless dryRun), in the order given. */
  async replay(letters: readonly DeadLetter[], options: { dryRun: boolean }): Promise<void> {
    if (options.dryRun || letters.length === 0) return;
    const producer = this.kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const letter of letters) {
        const headers: IHeaders = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !DLQ_HEADER.test(name)));
        headers['dlq-replayed-from'] = `${letter.topic}/${letter.partition}/${letter.offset}`;
        await producer.send({ topic: letter.originalTopic, acks: -1, messages: [{ key: letter.key, value: letter.value, headers }] });
      }
    } finally {
      await producer.disconnect();
    }
  }
}
