import { Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { fixKafkajsIdleTimer } from './kafkajs-idle-timer';
import { KafkaSecurity } from './security';

export { fixKafkajsIdleTimer };

export type KafkaSettings = {
  brokers: string[];
  clientId: string;
  namespace: string;
  logger: Logger;
  /** TLS and SASL (see `kafkaSecurity`); none by default. */
  security?: KafkaSecurity;
  /** kafkajs retries of each request and connection (default 8); 0 = one attempt. */
  retries?: number;
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
    ...settings.security,
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { initialRetryTime: 100, retries: settings.retries ?? 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[kafkajsLogLevel(level, message, rest.error)](rest, message);
      },
  });
}

/**
 * An idempotent producer as Kafka's guarantees require it: one request in flight per connection and
 * retries without a limit (a producer that gives up and is asked again may write a message twice or
 * out of order; kafkajs warns "Limiting retries for the idempotent producer may invalidate EoS
 * guarantees" for any limit). A send during a broker outage therefore waits for the broker, retried
 * at most every `maxRetryTime` ms; callers that must not wait forever (the outbox relay at shutdown)
 * stop waiting themselves.
 */
export const IDEMPOTENT_PRODUCER = {
  idempotent: true,
  maxInFlightRequests: 1,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
} as const;

/** Namespaced name of a topic or group, so environments and test runs can share one cluster. */
export function namespaced(namespace: string, name: string): string {
  return namespace ? `${namespace}.${name}` : name;
}

export { ensureTopics } from './topics';

