import { Admin, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { dlqTopic } from '@booking/contracts';
import { fixKafkajsIdleTimer } from './kafkajs-idle-timer';

export { fixKafkajsIdleTimer };

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

/** A broker still loading its coordinators (just started): kafkajs retries these itself. */
const COORDINATOR_STARTING = new Set([
  'The coordinator is loading and hence can\'t process requests for this group',
  'The coordinator is not available',
  'The group coordinator is not available',
]);

/**
 * kafkajs logs every failed broker response at error level, also the ones its caller expects and
 * handles. Services starting together race to create the same topics, and for a moment after creation
 * the metadata says no broker hosts them: `ensureTopics` retries both until every partition has a
 * leader. A broker that has just started answers "coordinator loading / not available" for a moment,
 * which kafkajs retries. All of these fail the start loudly if they last; each response is logged at
 * debug, so a healthy start prints no errors.
 */
export function kafkajsLogLevel(level: number, message: string | undefined, error: unknown): 'error' | 'warn' | 'info' | 'debug' {
  const expected =
    (message?.startsWith('Response CreateTopics(') && error === 'Topic creation errors') ||
    (message?.startsWith('Response Metadata(') && error === 'This server does not host this topic-partition') ||
    (message?.startsWith('Response ') && typeof error === 'string' && COORDINATOR_STARTING.has(error));
  return expected ? 'debug' : (levels[level] ?? 'info');
}

export function createKafka(settings: KafkaSettings): Kafka {
  fixKafkajsIdleTimer();
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
        log[kafkajsLogLevel(level, message, rest.error)](rest, message);
      },
  });
}

/** Namespaced name of a topic or group, so environments and test runs can share one cluster. */
export function namespaced(namespace: string, name: string): string {
  return namespace ? `${namespace}.${name}` : name;
}

/**
 * Creates topics (and their dead-letter topics) up front: KRaft brokers do not auto-create cleanly
 * for kafkajs, and auto-creation is off on our broker. Services start together and create the same
 * topics at once; the loser of that race can see "topic already exists" or, briefly, "this server
 * does not host this topic-partition" while metadata settles, so the whole step is retried until
 * every partition has a leader.
 */
export async function ensureTopics(admin: Admin, topics: readonly string[], partitions = 3, attempts = 10): Promise<void> {
  const wanted = [...new Set(topics.flatMap((t) => [t, dlqTopic(t)]))];
  if (wanted.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length) {
        await admin
          .createTopics({
            waitForLeaders: false,
            topics: missing.map((topic) => ({ topic, numPartitions: topic.endsWith('.dlq') ? 1 : partitions, replicationFactor: -1 })),
          })
          .catch((error) => {
            if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
          });
      }
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: wanted });
      const leaderless = metadata.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) return;
      throw new Error(`topics without leaders yet: ${leaderless.map((t) => t.name).join(', ')}`);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
