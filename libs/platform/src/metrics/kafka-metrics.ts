import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { counter, gauge, histogram, LATENCY_BUCKETS } from './registry';

export type MessageOutcome = 'handled' | 'retried' | 'dead_lettered';

/** The consumer-side metrics, made once per process and shared by every EventConsumer. */
export function consumerMetrics() {
  return {
    messages: counter({
      name: 'kafka_consumer_messages_total',
      help: 'Messages by outcome: handled (its handler finished), retried (an attempt failed and is tried again) or dead_lettered (sent to <topic>.dlq). A message that cannot be decoded is type "undecodable".',
      labelNames: ['group', 'topic', 'type', 'outcome'] as const,
    }),
    handlerDuration: histogram({
      name: 'kafka_consumer_handler_duration_seconds',
      help: 'Time a handler took for one message, or for one run of messages given to a batch handler (mode="batch").',
      labelNames: ['group', 'topic', 'type', 'mode'] as const,
      buckets: LATENCY_BUCKETS,
    }),
    up: gauge({
      name: 'kafka_consumer_up',
      help: '1 while the consumer is a member of its group; 0 after it crashed, stopped or disconnected.',
      labelNames: ['group'] as const,
    }),
  };
}

/** Keeps `kafka_consumer_up` for one consumer from kafkajs's own instrumentation events. */
export function trackConsumerMembership(consumer: Consumer, group: string, logger: Logger): void {
  const { up } = consumerMetrics();
  up.set({ group }, 0);
  consumer.on(consumer.events.GROUP_JOIN, () => up.set({ group }, 1));
  consumer.on(consumer.events.CRASH, (event) => {
    up.set({ group }, 0);
    logger.error({ group, err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
  });
  consumer.on(consumer.events.STOP, () => up.set({ group }, 0));
  consumer.on(consumer.events.DISCONNECT, () => up.set({ group }, 0));
}

export type LagSample = { group: string; topic: string; partition: number; lag: number };

/**
 * Lag of `committed` against the log end: what the group still has to handle. A partition the group
 * never committed counts from the log start (the consumers read from the beginning).
 */
export function partitionLag(high: string, low: string, committed: string): number {
  const end = BigInt(high);
  const from = committed === '-1' || committed === '' ? BigInt(low) : BigInt(committed);
  return end > from ? Number(end - from) : 0;
}

/**
 * Consumer lag per group and partition (log end offset minus committed offset), read from the broker
 * when scraped: two admin requests per group, at most once per `minIntervalMs` however often it is
 * scraped (a scrape in between gets the last reading), on one admin connection kept for it.
 */
export class ConsumerLagProbe {
  private admin?: Admin;
  private reading?: Promise<LagSample[]>;
  private last: { at: number; samples: LagSample[] } = { at: 0, samples: [] };
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly groups: () => ReadonlyArray<{ group: string; topics: readonly string[] }>,
    private readonly logger: Logger,
    private readonly minIntervalMs = 5000,
  ) {}

  async samples(): Promise<LagSample[]> {
    if (this.stopped || Date.now() - this.last.at < this.minIntervalMs) return this.last.samples;
    this.reading ??= this.read()
      .then((samples) => (this.last = { at: Date.now(), samples }).samples)
      .catch((error) => {
        // A broker that does not answer must not fail the scrape: the lag is left out until it does.
        this.logger.warn({ err: error }, 'consumer lag could not be read');
        this.last = { at: Date.now(), samples: [] };
        return [];
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<LagSample[]> {
    const groups = this.groups();
    if (groups.length === 0) return [];
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    const ends = new Map<string, Map<number, { high: string; low: string }>>();
    const samples: LagSample[] = [];
    for (const { group, topics } of groups) {
      for (const topic of topics) {
        if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, { high: p.high, low: p.low }])));
      }
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group, topics: [...topics] })) {
        for (const { partition, offset } of partitions) {
          const end = ends.get(topic)?.get(partition);
          if (end) samples.push({ group, topic, partition, lag: partitionLag(end.high, end.low, offset) });
        }
      }
    }
    return samples;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.reading;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
