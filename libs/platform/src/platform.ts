import { Kafka, Partitioners, Producer } from 'kafkajs';
import { Knex } from 'knex';
import type { Logger } from 'pino';
import { BaseConfig, ConfigError } from './config/config';
import { checkSchema, connectionConfig, createKnex, Migration, migrateSchema } from './database/database';
import { PgListener } from './database/pg-listener';
import { ConsumerOptions, EventConsumer } from './kafka/event-consumer';
import { createKafka, ensureTopics, IDEMPOTENT_PRODUCER, namespaced } from './kafka/kafka';
import { checkKafkaAccess, explainKafkaError, KafkaSecurity, kafkaSecurity } from './kafka/security';
import { topicSpecs } from './kafka/topics';
import { sweepInbox } from './inbox/inbox';
import { createLogger } from './logging/logger';
import { outboxChannel, serviceMigrations } from './outbox/outbox';
import { OutboxRelay } from './outbox/outbox-relay';
import { ConsumerLagProbe } from './metrics/kafka-metrics';
import { platformMetrics, registerPlatformSource } from './metrics/platform-metrics';
import { collectRuntimeMetrics } from './metrics/registry';
import { flushTraces } from './tracing/propagation';

const INBOX_SWEEP_INTERVAL_MS = 10 * 60_000;

/** What a component hears on a channel of the service's listening session (see `Platform.listen`). */
export type ChannelListener = {
  onNotification: (payload: string) => void;
  /** LISTEN is in effect (again): notifications of commits before this may have been missed. */
  onListening: () => void;
  /** The session is gone: notifications may be missed until the next `onListening`. */
  onLost: () => void;
};

export type PlatformOptions = {
  service: string;
  /** The Postgres schema this service owns; it touches no other. */
  schema: string;
  migrations: readonly Migration[];
  /** Topics this service produces to or consumes from (created up front with their DLQs). */
  topics: readonly string[];
  config: BaseConfig;
  poolMax?: number;
  /** Connections of the consumers' own pool (see `consumerKnex`); default 4. */
  consumerPoolMax?: number;
};

/**
 * The real parts one service needs, started in dependency order and stopped in reverse:
 * Postgres (schema + migrations), the Kafka producer, topics, the outbox relay, then consumers.
 */
export class Platform {
  readonly logger: Logger;
  readonly knex: Knex;
  /**
   * A separate, small pool for event handlers' transactions. A service that also serves HTTP can have
   * every connection of `knex` held by requests; handlers on this pool never queue behind them (and
   * cannot starve them either). It opens connections only when used.
   */
  readonly consumerKnex: Knex;
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly relay: OutboxRelay;
  private readonly consumers: EventConsumer[] = [];
  private readonly channels = new Map<string, ChannelListener>();
  private listener?: PgListener;
  private started = false;
  private inboxSweepTimer?: NodeJS.Timeout;
  private inboxSweep?: Promise<number>;
  private readonly metrics = platformMetrics();
  private readonly lagProbe: ConsumerLagProbe;
  private unregisterMetrics?: () => void;
  private readonly kafkaSecurity: KafkaSecurity;

  constructor(readonly options: PlatformOptions) {
    const { config } = options;
    this.logger = createLogger(options.service, config.LOG_LEVEL);
    if (config.DATABASE_POOLER === 'transaction' && !config.DATABASE_DIRECT_URL) {
      throw new ConfigError(options.service, ['DATABASE_DIRECT_URL is missing: DATABASE_POOLER=transaction needs a direct URL for the sessions (LISTEN, the outbox relay)']);
    }
    const namedStatements = config.DATABASE_POOLER !== 'transaction';
    this.knex = createKnex(connectionConfig(config, 'pool', options.schema), options.schema, options.poolMax, { namedStatements });
    this.consumerKnex = createKnex(connectionConfig(config, 'pool', `${options.schema}-consumers`), options.schema, options.consumerPoolMax ?? 4, { namedStatements });
    this.kafkaSecurity = kafkaSecurity(options.service, config);
    this.kafka = createKafka({
      brokers: config.KAFKA_BROKERS.split(','),
      clientId: namespaced(config.KAFKA_NAMESPACE, options.service),
      namespace: config.KAFKA_NAMESPACE,
      logger: this.logger,
      security: this.kafkaSecurity,
    });
    // The default (murmur2, Java-compatible) partitioner, named so kafkajs does not warn at every start.
    this.producer = this.kafka.producer({
      ...IDEMPOTENT_PRODUCER,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.relay = new OutboxRelay(this.producer, this.logger, {
      connection: connectionConfig(config, 'session', `${options.schema}-relay`),
      schema: options.schema,
      namespace: config.KAFKA_NAMESPACE,
      pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
      vacuumEveryRows: config.OUTBOX_VACUUM_EVERY_ROWS,
      onRound: (seconds, published) => {
        this.metrics.relayRound.observe({ service: options.service }, seconds);
        if (published) this.metrics.relayed.inc({ service: options.service }, published);
      },
    });
    this.metrics.started.set({ service: options.service }, 0);
    this.lagProbe = new ConsumerLagProbe(this.kafka, () => this.consumers.map((c) => c.subscription), this.logger);
  }

  get schema(): string {
    return this.options.schema;
  }

  /**
   * Hears a NOTIFY channel on the service's one listening session, which also wakes the outbox relay.
   * One session for everything: Postgres wakes every listening session of a database at every commit
   * that notifies, so a second one would cost a process wake-up per commit (measured: about 12% of
   * booking throughput). Call before `start`.
   */
  listen(channel: string, listener: ChannelListener): void {
    if (this.listener) throw new Error(`listen(${channel}) after the platform started`);
    this.channels.set(channel, listener);
  }

  /** Whether the listening session is listening now. */
  isListening(): boolean {
    return this.listener?.isListening() ?? false;
  }

  topic(name: string): string {
    return namespaced(this.options.config.KAFKA_NAMESPACE, name);
  }

  async start(): Promise<void> {
    const { config, schema } = this.options;
    const migrations = serviceMigrations(schema, this.options.migrations);
    if (config.MIGRATE_ON_START) {
      const { applied, newer } = await migrateSchema(config, schema, migrations);
      if (applied.length) this.logger.info({ applied }, 'migrations applied');
      this.warnNewer(newer);
    } else {
      this.warnNewer(await checkSchema(this.knex, schema, migrations));
    }
    if (config.DATABASE_POOLER === 'transaction') await this.checkPooledSessions();
    this.logger.info({ brokers: config.KAFKA_BROKERS, tls: config.KAFKA_TLS, sasl: config.KAFKA_SASL_MECHANISM }, 'connecting to Kafka');
    // A refused login or an untrusted certificate fails the start at once, naming the cause.
    await checkKafkaAccess(config.KAFKA_BROKERS.split(','), this.kafkaSecurity, config);
    await this.producer.connect().catch((error) => explainKafkaError(error, config));
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, topicSpecs(config, this.options.topics), { create: config.KAFKA_CREATE_TOPICS, logger: this.logger });
    } finally {
      await admin.disconnect();
    }
    await this.relay.start();
    const wakeRelay = outboxChannel(schema);
    this.listener = new PgListener(
      {
        connection: connectionConfig(config, 'session', `${schema}-listen`),
        channels: [wakeRelay, ...this.channels.keys()],
        applicationName: `${schema}-listen`,
        onNotification: (channel, payload) => (channel === wakeRelay ? this.relay.notify() : this.channels.get(channel)?.onNotification(payload)),
        onListening: () => {
          // Rows written while nobody listened wait for no poll.
          this.relay.notify();
          for (const listener of this.channels.values()) listener.onListening();
        },
        onLost: () => {
          for (const listener of this.channels.values()) listener.onLost();
        },
      },
      this.logger,
    );
    await this.listener.start();
    this.inboxSweepTimer = setInterval(() => void this.sweepInbox(), INBOX_SWEEP_INTERVAL_MS);
    this.inboxSweepTimer.unref();
    collectRuntimeMetrics();
    this.unregisterMetrics = registerPlatformSource({
      service: this.options.service,
      pools: { requests: this.knex, consumers: this.consumerKnex },
      relayLeader: () => this.relay.isLeader(),
      outbox: () => this.relay.backlog(this.knex),
      lag: () => this.lagProbe.samples(),
    });
    this.started = true;
    this.metrics.started.set({ service: this.options.service }, 1);
  }

  private warnNewer(newer: string[]): void {
    if (newer.length) this.logger.warn({ newer }, 'the schema has migrations of a newer release; this one runs on it unchanged (expand/contract)');
  }

  /**
   * Behind a transaction pooler the pool's connections get no startup settings: their search path and
   * timeouts are those of the role (ALTER ROLE … SET, as infra/postgres/service-roles.sql does). A
   * search path without the service's schema would send queries to the wrong tables, so it fails the
   * start; timeouts other than configured are reported.
   */
  private async checkPooledSessions(): Promise<void> {
    const { config, schema } = this.options;
    const { rows } = await this.knex.raw<{ rows: { schemas: string[]; statement: string; lock: string; idle: string }[] }>(
      `SELECT current_schemas(false)::text[] AS schemas,
              (SELECT setting FROM pg_settings WHERE name = 'statement_timeout') AS statement,
              (SELECT setting FROM pg_settings WHERE name = 'lock_timeout') AS lock,
              (SELECT setting FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout') AS idle`,
    );
    const row = rows[0];
    if (row.schemas[0] !== schema) {
      throw new Error(`DATABASE_POOLER=transaction: the pool's sessions search ${JSON.stringify(row.schemas)} first, not "${schema}": set the role's search_path (ALTER ROLE … SET search_path = ${schema}, public)`);
    }
    const expected = { statement: config.DB_STATEMENT_TIMEOUT_MS, lock: config.DB_LOCK_TIMEOUT_MS, idle: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS };
    const actual = { statement: Number(row.statement), lock: Number(row.lock), idle: Number(row.idle) };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      this.logger.warn({ expected, actual }, "DATABASE_POOLER=transaction: the pool's timeouts are the role's settings, and they differ from DB_*_TIMEOUT_MS");
    }
  }

  /**
   * Runs a write that adds outbox rows, telling it whether to NOTIFY the relay's channel in its
   * transaction; `write` must have committed when its promise resolves. When this instance's relay is
   * the active one, the write does not notify: the relay is woken here, in-process, once the write has
   * committed. A notifying commit costs more than the notification: Postgres (before 17) serialises
   * every notifying commit of the server, WAL flush included, on one lock, and wakes every listening
   * session of the database. When another instance's relay is active, the write notifies as before.
   * Should this instance lose the lock in between, the new active relay finds the rows at its next
   * poll, as after any missed notification.
   */
  async writeOutbox<T>(write: (notify: boolean) => Promise<T>): Promise<T> {
    const local = this.relay.isLeader();
    const result = await write(!local);
    if (local) this.relay.notify();
    return result;
  }

  /** Starts a consumer in this service's own group; topic and group names get the namespace. */
  async consume(options: ConsumerOptions): Promise<EventConsumer> {
    const consumer = new EventConsumer(this.kafka, this.producer, this.logger, {
      sessionTimeoutMs: this.options.config.KAFKA_SESSION_TIMEOUT_MS,
      ...options,
      groupId: this.topic(options.groupId),
      topics: options.topics.map((t) => this.topic(t)),
    });
    await consumer.start();
    this.consumers.push(consumer);
    return consumer;
  }

  async checkDatabase(): Promise<void> {
    await this.knex.raw('SELECT 1');
  }

  async checkKafka(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.describeCluster();
    } finally {
      await admin.disconnect();
    }
  }

  isStarted(): boolean {
    return this.started;
  }

  /**
   * Deletes this service's inbox rows older than INBOX_RETENTION_HOURS (runs every 10 minutes while
   * started; any number of instances may sweep at once). Returns how many went; a failure is logged
   * and left for the next round.
   */
  async sweepInbox(): Promise<number> {
    if (this.inboxSweep) return this.inboxSweep;
    const { schema, config } = this.options;
    // A stop ends it between batches: a large first sweep must not hold up a shutdown.
    this.inboxSweep = sweepInbox(this.knex, schema, config.INBOX_RETENTION_HOURS, () => !this.started)
      .then((removed) => {
        if (removed) this.logger.info({ removed, retentionHours: config.INBOX_RETENTION_HOURS }, 'old inbox rows removed');
        this.metrics.inboxSwept.inc({ service: this.options.service }, removed);
        return removed;
      })
      .catch((error) => {
        this.logger.warn({ err: error }, 'inbox sweep failed; it runs again later');
        return 0;
      })
      .finally(() => (this.inboxSweep = undefined));
    return this.inboxSweep;
  }

  async stop(): Promise<void> {
    this.started = false;
    // A scrape from now on reports nothing of this platform rather than asking parts that are stopping.
    this.unregisterMetrics?.();
    this.metrics.started.set({ service: this.options.service }, 0);
    clearInterval(this.inboxSweepTimer);
    await this.inboxSweep;
    await Promise.allSettled(this.consumers.map((c) => c.stop()));
    await this.listener?.stop();
    await Promise.all([this.relay.stop(), this.lagProbe.stop()]);
    await this.producer.disconnect().catch(() => undefined);
    await Promise.all([this.knex.destroy(), this.consumerKnex.destroy()]);
    await flushTraces();
  }
}
