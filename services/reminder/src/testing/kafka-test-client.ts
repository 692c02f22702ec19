import { Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { Envelope, HEADER_CORRELATION_ID, HEADER_EVENT_ID, HEADER_EVENT_TYPE } from '@booking/contracts';
import { namespaced } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';

export type ReceivedMessage = { key: string; envelope: Envelope; headers: Record<string, string> };

/** Plays the other services in tests: publishes their events and reads what this service publishes. */
export class KafkaTestClient {
  private readonly kafka: Kafka;
  private producer?: Producer;
  private readonly consumers: Consumer[] = [];

  constructor(private readonly env: TestEnvironment) {
    this.kafka = new Kafka({ brokers: env.baseConfig().KAFKA_BROKERS.split(','), clientId: `${env.id}-test`, logLevel: logLevel.NOTHING });
  }

  topic(name: string): string {
    return namespaced(this.env.namespace, name);
  }

  async publish(topic: string, ...envelopes: Envelope[]): Promise<void> {
    await this.sendRaw(
      topic,
      envelopes.map((e) => ({
        key: e.aggregateId,
        value: JSON.stringify(e),
        headers: { [HEADER_EVENT_TYPE]: e.type, [HEADER_EVENT_ID]: e.eventId, [HEADER_CORRELATION_ID]: e.correlationId },
      })),
    );
  }

  async sendRaw(topic: string, messages: { key: string; value: string; headers?: Record<string, string> }[]): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    await this.producer.send({ topic: this.topic(topic), acks: -1, messages });
  }

  /** Collects every message of a topic from its beginning into the returned array, as it arrives. */
  async collect(topic: string): Promise<ReceivedMessage[]> {
    const received: ReceivedMessage[] = [];
    const consumer = this.kafka.consumer({ groupId: `${this.env.id}-reader-${topic}-${this.consumers.length}`, maxWaitTimeInMs: 100 });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic(topic), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        let envelope: Envelope;
        try {
          envelope = JSON.parse(String(message.value));
        } catch {
          envelope = { raw: String(message.value) } as unknown as Envelope;
        }
        received.push({ key: String(message.key), envelope, headers });
      },
    });
    return received;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
    await this.producer?.disconnect();
  }
}
