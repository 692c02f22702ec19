import { Admin, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { dlqTopic } from '@booking/contracts';

export type KafkaSettings = {
  brokers: string[];
  clientId: string;
  namespace: string;
  logger: Logger;
};

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export function createKafka(settings: KafkaSettings): Kafka {
  const log = settings.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[levels[level] ?? 'info'](rest, message);
      },
  });
}

/** Namespaced name of a topic or group, so environments and test runs can share one cluster. */
export function namespaced(namespace: string, name: string): string {
  return namespace ? `${namespace}.${name}` : name;
}

/**
 * Creates topics (and their dead-letter topics) up front: KRaft brokers do not auto-create cleanly
 * for kafkajs, and auto-creation is off on our broker.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly string[],
  partitions = 3,
): Promise<void> {
  const wanted = [...new Set(topics.flatMap((t) => [t, dlqTopic(t)]))];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: topic.endsWith('.dlq') ? 1 : partitions,
        replicationFactor: -1,
      })),
    });
  } catch (error) {
    // Several services create the same topics at start-up; losing that race is fine.
    const now = new Set(await admin.listTopics());
    if (missing.some((t) => !now.has(t))) throw error;
  }
}
