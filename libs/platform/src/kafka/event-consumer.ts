import { Consumer, Kafka, KafkaMessage, Producer, IHeaders } from 'kafkajs';
import type { Logger } from 'pino';
import { Envelope, dlqTopic } from '@booking/contracts';
import { withCorrelation } from '../logging/correlation';
import { PermanentEventError } from './errors';
import { decodeEnvelope, EnvelopeDecodeError } from './codec';

export type EventContext = {
  topic: string;
  partition: number;
  offset: string;
  /** kafkajs only heartbeats between messages: a handler that waits on something slow calls this. */
  heartbeat: () => Promise<void>;
};

export type EventHandler = (event: Envelope, context: EventContext) => Promise<void>;

export type ConsumerOptions = {
  groupId: string;
  topics: string[];
  /** Handlers by event type. Types without a handler are acknowledged and skipped. */
  handlers: Record<string, EventHandler>;
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  sessionTimeoutMs?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * At-least-once consumer: the offset is committed only after the handler finished (or the message was
 * dead-lettered). A failing message is retried with exponential backoff a bounded number of times and
 * then sent to `<topic>.dlq`, so it never blocks its partition for long and is never skipped silently.
 */
export class EventConsumer {
  private consumer?: Consumer;
  private running = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly dlqProducer: Producer,
    private readonly logger: Logger,
    private readonly options: ConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const o = this.options;
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 10000,
      heartbeatInterval: Math.min(3000, Math.floor((o.sessionTimeoutMs ?? 10000) / 3)),
      rebalanceTimeout: 20000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning ?? true });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 3,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        await this.process(topic, partition, message, heartbeat);
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
  }

  private async process(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>) {
    let event: Envelope;
    try {
      event = decodeEnvelope(message.value);
    } catch (error) {
      await this.deadLetter(topic, partition, message, error as Error);
      return;
    }
    const handler = this.options.handlers[event.type];
    if (!handler) return;
    const maxAttempts = this.options.maxAttempts ?? 5;
    const initial = this.options.initialBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 5000;
    for (let attempt = 1; ; attempt++) {
      try {
        await withCorrelation({ correlationId: event.correlationId, causationId: event.eventId }, () =>
          handler(event, { topic, partition, offset: message.offset, heartbeat }),
        );
        return;
      } catch (error) {
        const permanent = error instanceof PermanentEventError;
        if (permanent || attempt >= maxAttempts || !this.running) {
          if (!this.running && !permanent) throw error; // shutting down: leave it uncommitted for the next owner
          await this.deadLetter(topic, partition, message, error as Error, attempt);
          return;
        }
        const backoff = Math.min(max, initial * 2 ** (attempt - 1));
        this.logger.warn(
          { err: error, eventId: event.eventId, type: event.type, attempt, backoffMs: backoff },
          'event handler failed; retrying',
        );
        await sleep(backoff);
        await heartbeat();
      }
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: Error, attempts = 0) {
    this.logger.error(
      { err: error, topic, partition, offset: message.offset, attempts, decode: error instanceof EnvelopeDecodeError },
      'message dead-lettered',
    );
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      'dlq-reason': error.message.slice(0, 1000),
      'dlq-original-topic': topic,
      'dlq-original-partition': String(partition),
      'dlq-original-offset': message.offset,
      'dlq-consumer-group': this.options.groupId,
      'dlq-attempts': String(attempts),
    };
    await this.dlqProducer.send({
      topic: dlqTopic(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
  }

  /** Leaves the group at once so a restarted instance does not wait for the session to expire. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer?.disconnect();
  }
}
