import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Admin, Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { Knex } from 'knex';
import { dlqTopic, Envelope, envelopeSchema, EventType, eventDataSchemas, TOPICS } from '@booking/contracts';
import { createHttpApp, namespaced, Platform } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { AppModule } from '../app.module';
import { loadPaymentConfig } from '../config';
import { PAYMENT_SCHEMA } from '../schema';

/**
 * Fast settings for tests: no simulated latency, quick polling and retries. The gateway's deadline is
 * not short: the simulated gateway records each charge in Postgres within it, and on a loaded machine
 * a round trip can take hundreds of milliseconds; a charge that timed out only because of that would
 * be retried and break the tests' `requests: 1`. Two attempts of 2 s stay inside the test consumers'
 * 6 s session (see chargeFitsInSession), and only the tests of a gateway that never answers wait them out.
 */
export const TEST_PAYMENT_ENV: Record<string, string> = {
  PAYMENT_PROVIDER_LATENCY_MS: '0',
  PAYMENT_PROVIDER_TIMEOUT_MS: '2000',
  PAYMENT_PROVIDER_MAX_ATTEMPTS: '2',
  PAYMENT_PROVIDER_RETRY_BACKOFF_MS: '10',
  PAYMENT_DELAYED_SUCCESS_MS: '1500',
  PAYMENT_SETTLEMENT_POLL_MS: '50',
  PAYMENT_CONSUMER_MAX_ATTEMPTS: '3',
  PAYMENT_CONSUMER_INITIAL_BACKOFF_MS: '20',
  OUTBOX_POLL_INTERVAL_MS: '100',
};

type Published = { envelope: Envelope; partition: number; offset: number };

/**
 * The real payment service (HTTP, Postgres, Kafka) in a private test environment, with what a test
 * needs around it: a producer playing scheduling on the appointment topic, a reader of everything
 * the service publishes on payment.v1, and the consumer group's committed offsets.
 */
export class PaymentHarness {
  readonly env = new TestEnvironment();
  readonly emitted: Envelope[] = [];
  app!: INestApplication;
  url!: string;
  private kafka!: Kafka;
  private producer!: Producer;
  private admin!: Admin;
  private probe?: Consumer;

  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  get platform(): Platform {
    return this.app.get(Platform);
  }

  get knex(): Knex {
    return this.platform.knex;
  }

  get appointmentTopic(): string {
    return namespaced(this.env.namespace, TOPICS.appointment);
  }

  async start(): Promise<void> {
    await this.startApp();
    this.kafka = new Kafka({ brokers: this.platform.options.config.KAFKA_BROKERS.split(','), clientId: `${this.env.id}-test`, logLevel: logLevel.NOTHING });
    this.producer = this.kafka.producer();
    this.admin = this.kafka.admin();
    await Promise.all([this.producer.connect(), this.admin.connect()]);
    this.probe = this.kafka.consumer({ groupId: `${this.env.id}-probe`, maxWaitTimeInMs: 100 });
    await this.probe.connect();
    await this.probe.subscribe({ topic: namespaced(this.env.namespace, TOPICS.payment), fromBeginning: true });
    await this.probe.run({
      eachMessage: async ({ message }) => {
        this.emitted.push(JSON.parse(String(message.value)) as Envelope);
      },
    });
  }

  /** A fresh instance of the service in the same environment: same database, same consumer group. */
  async startApp(): Promise<void> {
    const config = loadPaymentConfig(this.env.env({ ...TEST_PAYMENT_ENV, ...this.extraEnv }));
    this.app = await createHttpApp(AppModule.forRoot(config), config);
    await this.app.listen(0, '127.0.0.1');
    await this.app.get(Platform).untilKafkaConnected();
    this.url = `http://127.0.0.1:${(this.app.getHttpServer().address() as AddressInfo).port}`;
  }

  async stopApp(): Promise<void> {
    await this.app.close();
  }

  async stop(): Promise<void> {
    await this.probe?.disconnect();
    await this.producer?.disconnect();
    await this.admin?.disconnect();
    await this.app?.close();
    await this.env.destroy();
  }

  /** Publishes an event as scheduling would: a valid envelope, keyed by the appointment id. */
  async publish<T extends EventType>(type: T, data: Record<string, unknown>, envelope: Partial<Envelope> = {}): Promise<Published> {
    const event: Envelope = {
      eventId: randomUUID(),
      type,
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: String(data.appointmentId),
      aggregateVersion: 1,
      correlationId: randomUUID(),
      causationId: null,
      data,
      ...envelope,
    };
    // A test that publishes an invalid event by mistake would prove nothing about the service.
    envelopeSchema.parse(event);
    eventDataSchemas[type].parse(data);
    return { envelope: event, ...(await this.publishRaw(event.aggregateId, JSON.stringify(event))) };
  }

  async republish(published: Published): Promise<Published> {
    return { envelope: published.envelope, ...(await this.publishRaw(published.envelope.aggregateId, JSON.stringify(published.envelope))) };
  }

  /**
   * Valid events in one produce request to one partition, so a consumer that has not read them yet
   * gets them as one batch. `raw` entries are published as they are (poison).
   */
  async publishTogether(
    partition: number,
    items: ({ type: EventType; data: Record<string, unknown> } | { raw: string; key: string })[],
  ): Promise<Published[]> {
    const envelopes = items.map((item) => {
      if ('raw' in item) return { key: item.key, value: item.raw, envelope: undefined };
      const event: Envelope = {
        eventId: randomUUID(),
        type: item.type,
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        aggregateId: String(item.data.appointmentId),
        aggregateVersion: 1,
        correlationId: randomUUID(),
        causationId: null,
        data: item.data,
      };
      envelopeSchema.parse(event);
      return { key: event.aggregateId, value: JSON.stringify(event), envelope: event };
    });
    const [meta] = await this.producer.send({
      topic: this.appointmentTopic,
      acks: -1,
      messages: envelopes.map(({ key, value }) => ({ key, value, partition })),
    });
    return envelopes.map(({ envelope }, i) => ({ envelope: envelope as Envelope, partition, offset: Number(meta.baseOffset) + i }));
  }

  async publishRaw(key: string, value: string): Promise<{ partition: number; offset: number }> {
    const [meta] = await this.producer.send({ topic: this.appointmentTopic, acks: -1, messages: [{ key, value }] });
    return { partition: meta.partition, offset: Number(meta.baseOffset) };
  }

  /**
   * Waits until the service's consumer group has committed past this message (it was handled or
   * dead-lettered) and every event it caused was published and read back, so a test can assert absence.
   */
  async consumed(message: { partition: number; offset: number }): Promise<void> {
    await eventually(
      async () => {
        const [topic] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.appointmentTopic] });
        const committed = topic?.partitions.find((p) => p.partition === message.partition);
        return committed !== undefined && Number(committed.offset) > message.offset;
      },
      20000,
      `offset ${message.offset} of partition ${message.partition} committed`,
    );
    await eventually(async () => {
      const [{ count }] = await this.knex.withSchema(PAYMENT_SCHEMA).table('outbox').count({ count: '*' });
      if (Number(count) > 0) return false;
      const published = (await this.admin.fetchTopicOffsets(namespaced(this.env.namespace, TOPICS.payment))).reduce((n, p) => n + Number(p.high), 0);
      return this.emitted.length >= published;
    }, 20000, 'outbox drained and payment events read back');
  }

  /** Moves the service's committed offset back, as if it had never committed past `message`. Only while it is stopped. */
  async rewindTo(message: { partition: number; offset: number }): Promise<void> {
    await this.admin.setOffsets({ groupId: this.groupId, topic: this.appointmentTopic, partitions: [{ partition: message.partition, offset: String(message.offset) }] });
  }

  eventsOf(appointmentId: string, type?: string): Envelope[] {
    return this.emitted.filter((e) => e.aggregateId === appointmentId && (!type || e.type === type));
  }

  async eventOf(appointmentId: string, type: string): Promise<Envelope> {
    return eventually(async () => this.eventsOf(appointmentId, type)[0], 20000, `${type} for ${appointmentId}`);
  }

  /** Every message in the appointment topic's DLQ so far. */
  async deadLetters(): Promise<{ key: string; value: string; headers: Record<string, string> }[]> {
    const dlq = dlqTopic(this.appointmentTopic);
    const total = (await this.admin.fetchTopicOffsets(dlq)).reduce((n, p) => n + Number(p.high), 0);
    if (total === 0) return [];
    const out: { key: string; value: string; headers: Record<string, string> }[] = [];
    const reader = this.kafka.consumer({ groupId: `${this.env.id}-dlq-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await reader.connect();
    try {
      await reader.subscribe({ topic: dlq, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          out.push({ key: String(message.key), value: String(message.value), headers });
        },
      });
      await eventually(async () => out.length >= total, 20000, `${total} dead letters`);
    } finally {
      await reader.disconnect();
    }
    return out;
  }

  async get(path: string): Promise<{ status: number; body: any }> {
    const response = await fetch(this.url + path);
    return { status: response.status, body: await response.json() };
  }

  private get groupId(): string {
    return namespaced(this.env.namespace, 'payment');
  }
}

const core = (appointmentId: string) => ({
  appointmentId,
  providerId: 'provider-1',
  clientId: 'client-1',
  start: '2031-03-04T09:00:00.000Z',
  end: '2031-03-04T09:30:00.000Z',
  client: { timeZone: 'Europe/Berlin', email: 'client@example.com' },
  provider: { timeZone: 'Europe/Berlin', name: 'Dr. Example' },
});

/** The `data` of scheduling's events, as its wire format carries them. */
export const appointmentEvents = {
  requested: (appointmentId: string, options: { amountMinor?: number; currency?: string; paymentMethod?: unknown } = {}) => ({
    ...core(appointmentId),
    price: { amountMinor: options.amountMinor ?? 5000, currency: options.currency ?? 'EUR' },
    holdExpiresAt: '2031-03-01T09:15:00.000Z',
    policy: { freeUntilHoursBefore: 24, lateFee: { kind: 'PERCENT', percent: 40 }, noShowForfeits: true, rescheduleFreeUntilHoursBefore: 24 },
    ...('paymentMethod' in options && { paymentMethod: options.paymentMethod }),
  }),
  cancelled: (appointmentId: string, money: { paymentId: string | null; refundMinor: number; feeMinor: number; currency?: string }) => ({
    ...core(appointmentId),
    by: 'CLIENT',
    reason: 'CLIENT_REQUEST',
    currency: 'EUR',
    ...money,
  }),
  rescheduled: (appointmentId: string, money: { paymentId: string | null; creditMinor: number; feeMinor: number }) => ({
    ...core(appointmentId),
    previousStart: '2031-03-03T09:00:00.000Z',
    previousEnd: '2031-03-03T09:30:00.000Z',
    free: money.feeMinor === 0,
    currency: 'EUR',
    ...money,
  }),
  noShow: (appointmentId: string, money: { paymentId: string | null; refundMinor: number; forfeitedMinor?: number }) => ({
    ...core(appointmentId),
    currency: 'EUR',
    ...money,
  }),
  lateRefund: (appointmentId: string, paymentId: string, amountMinor: number) => ({
    appointmentId,
    paymentId,
    amountMinor,
    currency: 'EUR',
    reason: 'APPOINTMENT_NOT_PENDING',
  }),
};
