import { Kafka, Partitioners, Producer } from 'kafkajs';
import { Knex } from 'knex';
import type { Logger } from 'pino';
import { BaseConfig, ConfigError } from './config/config';
import { checkSchema, connectionConfig, createKnex, Migration, migrateSchema } from './database/database';
import { PgListener } from './database/pg-listener';
import { ConsumerOptions, EventConsumer } from './kafka/event-consumer';
import { createKafka, ensureTopics, IDEMPOTENT_PRODUCER, namespaced } from './kafka/kafka';
import { checkKafkaAccess, explainKafkaError, KafkaAccessError, KafkaSecurity, kafkaSecurity } from './kafka/security';
import { topicSpecs } from './kafka/topics';
import { CheckState, readinessReport, ReadinessReport } from './health/readiness';
import { sweepInbox } from './inbox/inbox';
import { createLogger } from './logging/logger';
import { outboxChannel, serviceMigrations } from './outbox/outbox';
import { OutboxRelay } from './outbox/outbox-relay';
import { ConsumerLagProbe } from './metrics/kafka-metrics';
import { platformMetrics, registerPlatformSource } from './metrics/platform-metrics';
import { collectRuntimeMetrics } from './metrics/registry';
import { flushTraces } from './tracing/propagation';

const INBOX_SWEEP_INTERVAL_MS = 10 * 60_000;
/** How often the Kafka state is looked at, to log each change of it once. */
const KAFKA_WATCH_MS = 1000;

/**
 * What the broker means to a service:
 * - `required`: it consumes events to do its job (payment, notification, reminder): ready only while
 *   its consumers are in their groups;
 * - `degraded`: it serves without the broker (its writes go through the outbox): a broker outage is
 *   reported as degraded and keeps it in rotation;
 * - `none`: it uses no Kafka at all (the gateway).
 */
export type KafkaRole = 'required' | 'degraded' | 'none';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

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
  /** Default `required`; see KafkaRole. */
  kafka?: KafkaRole;
};

/**
 * The real parts one service needs, started in dependency order and stopped in reverse:
 * Postgres (schema + migrations) and the listening session at start-up; then, in the background so that
 * the service starts and serves while the broker is away or its group is settling, the Kafka producer,
 * topics, the outbox relay and the consumers. It also answers for the instance's health (`readiness`).
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
  private readonly checks = new Map<string, () => CheckState>();
  private kafkaConnecting?: Promise<void>;
  private kafkaConnected = false;
  private kafkaError?: string;
  private kafkaStopped = false;
  private wakeKafkaConnect?: () => void;
  private readonly kafkaProbe: Kafka;
  private kafkaWatch?: NodeJS.Timeout;
  private kafkaWatchState?: string;
  private shuttingDown = false;
  private stopDeadline?: number;

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
    const kafkaSettings = {
      brokers: config.KAFKA_BROKERS.split(','),
      clientId: namespaced(config.KAFKA_NAMESPACE, options.service),
      namespace: config.KAFKA_NAMESPACE,
      logger: this.logger,
      security: this.kafkaSecurity,
    };
    this.kafka = createKafka(kafkaSettings);
    // Connects once, without kafkajs's retries (its cluster connect ignores an admin's own retry
    // setting), so the background connect learns of an outage at once and owns the backoff.
    this.kafkaProbe = createKafka({ ...kafkaSettings, retries: 0 });
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

  get kafkaRole(): KafkaRole {
    return this.options.kafka ?? 'required';
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
    // A refused login or an untrusted certificate fails the start at once, naming the cause (a broker
    // that does not answer is left to the background connect below).
    if (this.kafkaRole !== 'none') await checkKafkaAccess(config.KAFKA_BROKERS.split(','), this.kafkaSecurity, config);
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
    if (this.kafkaRole !== 'none') {
      // The first attempt is awaited: with the broker up, missing topics (KAFKA_CREATE_TOPICS=false) or
      // a refused access fail the start, naming them. A broker that does not answer is no reason not to
      // serve: the instance connects in the background and its outbox keeps every event meanwhile.
      const failed = await this.tryConnectKafka().then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      if (failed instanceof KafkaAccessError) throw failed;
      if (failed) {
        this.kafkaError = failed.message;
        this.logger.warn({ err: failed }, 'Kafka unreachable; serving without it and connecting in the background');
      }
      this.kafkaConnecting = failed ? this.connectKafka(2) : Promise.resolve();
      this.kafkaWatch = setInterval(() => this.watchKafka(), KAFKA_WATCH_MS);
      this.kafkaWatch.unref();
    }
    this.inboxSweepTimer = setInterval(() => void this.sweepInbox(), INBOX_SWEEP_INTERVAL_MS);
    this.inboxSweepTimer.unref();
    collectRuntimeMetrics();
    this.unregisterMetrics = registerPlatformSource({
      service: this.options.service,
      pools: { requests: this.knex, consumers: this.consumerKnex },
      // A service without Kafka never starts its relay: reporting it as a standby would raise OutboxRelayNotActive.
      ...(this.kafkaRole === 'none' ? {} : { relayLeader: () => this.relay.isLeader(), outbox: () => this.relay.backlog(this.knex) }),
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

  /**
   * Producer, topics, relay, then the consumers registered so far, retried with a backoff until the
   * broker answers: the outbox keeps every event meanwhile, and the consumers catch up from their
   * committed offsets.
   */
  private async connectKafka(firstAttempt = 1): Promise<void> {
    for (let attempt = firstAttempt; !this.kafkaStopped; attempt++) {
      try {
        await this.tryConnectKafka();
        if (attempt > 1) this.logger.info('connected to Kafka');
        return;
      } catch (error) {
        this.kafkaError = (error as Error).message;
        // Found now, with the broker up (it was down at start), a configuration error is logged and
        // retried; readiness names it meanwhile.
        if (error instanceof KafkaAccessError) this.logger.error({ err: error }, `Kafka: ${(error as Error).message}`);
        else if (attempt === 1) this.logger.warn({ err: error }, 'Kafka unreachable; serving without it and connecting in the background');
        // The backoff ends early when the instance stops.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
          this.wakeKafkaConnect = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** One attempt: topics, producer, then the relay and the consumers registered so far. */
  private async tryConnectKafka(): Promise<void> {
    const { config } = this.options;
    // One attempt without kafkajs's own retries (which would hold this attempt, and a shutdown, for
    // half a minute): the outage is known, reported and logged within seconds, and connectKafka owns
    // the backoff. The producer connects only once the broker has answered.
    const admin = this.kafkaProbe.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, topicSpecs(config, this.options.topics), { create: config.KAFKA_CREATE_TOPICS, logger: this.logger });
    } finally {
      await admin.disconnect();
    }
    if (this.kafkaStopped) return;
    await this.producer.connect().catch((error) => explainKafkaError(error, config));
    if (this.kafkaStopped) return;
    this.kafkaConnected = true;
    this.kafkaError = undefined;
    this.relay.start();
    for (const consumer of this.consumers) consumer.start();
  }

  /**
   * Resolves once this instance has connected to Kafka in the background (topics ensured, relay and
   * consumers started; the consumers may still be joining their groups), or has stopped trying. For
   * tests and tools that need the topics to exist; serving never waits for it.
   */
  async untilKafkaConnected(): Promise<void> {
    await this.kafkaConnecting;
  }

  /** Logs each change of the Kafka state once (a broker outage, and its end). */
  private watchKafka(): void {
    const state = this.kafkaCheck();
    const key = state.status;
    if (key === this.kafkaWatchState || this.shuttingDown) return;
    // A first connection or group join still under way, with nothing failed yet, is no outage.
    if (this.kafkaWatchState === undefined && state.status !== 'up' && !this.kafkaError) return;
    const first = this.kafkaWatchState === undefined;
    this.kafkaWatchState = key;
    if (state.status !== 'up') this.logger.warn({ kafka: state }, `Kafka ${state.status}: ${state.message}`);
    else if (!first) this.logger.info('Kafka is up again');
  }

  /** The broker as this instance sees it: connected, and every consumer in its group. */
  private kafkaCheck(): CheckState {
    const failed = this.kafkaRole === 'required' ? 'down' : 'degraded';
    const impact =
      this.kafkaRole === 'required'
        ? 'no events are consumed; producers keep theirs in the outbox'
        : 'requests are served; events wait in the outbox and incoming events wait on the broker';
    if (!this.kafkaConnected) return { status: failed, message: `not connected: ${this.kafkaError ?? 'connecting'}`, impact };
    const reasons = this.consumers.map((c) => c.notInGroupReason()).filter((r): r is string => r !== undefined);
    if (reasons.length) return { status: failed, message: reasons.join('; '), impact };
    return { status: 'up' };
  }

  /**
   * Adds a check to the instance's readiness (see CheckState); it must answer from state at hand,
   * without I/O. Names are unique.
   */
  addCheck(name: string, check: () => CheckState): void {
    if (this.checks.has(name)) throw new Error(`a readiness check named ${name} exists already`);
    this.checks.set(name, check);
  }

  /** Whether this instance should receive traffic now, and why not (see `readinessReport`). */
  readiness(): ReadinessReport {
    const details: Record<string, CheckState> = {
      startup: this.started ? { status: 'up' } : { status: 'down', message: 'still starting' },
    };
    if (this.shuttingDown) details.shutdown = { status: 'down', message: 'shutting down' };
    details.postgres = this.isListening()
      ? { status: 'up' }
      : { status: 'down', message: "no answer from Postgres on the service's session; reconnecting" };
    if (this.kafkaRole !== 'none') {
      details.kafka = this.kafkaCheck();
      const relayFailing = this.kafkaConnected ? this.relay.failing() : undefined;
      details.outbox = relayFailing
        ? { status: 'degraded', message: `publishing paused: ${relayFailing}`, impact: 'events wait in the outbox' }
        : { status: 'up' };
    }
    for (const [name, check] of this.checks) details[name] = check();
    return readinessReport(details);
  }

  /**
   * The first step of a shutdown: readiness answers 503 from now on, so load balancers stop sending
   * traffic while the instance still serves what they send meanwhile. `timeoutMs` bounds `stop`.
   */
  beginShutdown(timeoutMs?: number): void {
    this.shuttingDown = true;
    if (timeoutMs !== undefined) this.stopDeadline = Date.now() + timeoutMs;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * A consumer in this service's own group (topic and group names get the namespace). It joins in the
   * background, once the broker answers: the returned promise does not wait for the group.
   */
  async consume(options: ConsumerOptions): Promise<EventConsumer> {
    const consumer = new EventConsumer(this.kafka, this.producer, this.logger, {
      sessionTimeoutMs: this.options.config.KAFKA_SESSION_TIMEOUT_MS,
      ...options,
      groupId: this.topic(options.groupId),
      topics: options.topics.map((t) => this.topic(t)),
    });
    this.consumers.push(consumer);
    if (this.kafkaConnected) consumer.start();
    return consumer;
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

  /**
   * Stops what runs in the background, in order, each step logged once: consumers (their running
   * batches finish, offsets are committed, the group is left), then the relay, the listening session,
   * the producer and the pools. Steps that need the broker get only what is left of the shutdown's
   * bound (see `beginShutdown`) minus a second for the rest, so a broker that is down cannot hold the
   * pools open until the process is killed.
   */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    this.started = false;
    // A scrape from now on reports nothing of this platform rather than asking parts that are stopping.
    this.unregisterMetrics?.();
    this.metrics.started.set({ service: this.options.service }, 0);
    this.kafkaStopped = true;
    this.wakeKafkaConnect?.();
    clearInterval(this.kafkaWatch);
    clearInterval(this.inboxSweepTimer);
    const kafkaBudget = () => Math.max(0, (this.stopDeadline ?? Date.now() + 20_000) - Date.now() - 1000);
    const bounded = async (what: string, work: Promise<unknown>) => {
      const budget = kafkaBudget();
      const outcome = await Promise.race([work.then(() => 'done' as const), sleep(budget).then(() => 'late' as const)]);
      if (outcome === 'late') this.logger.warn({ ms: budget }, `shutdown: ${what} did not finish in time; going on`);
    };
    if (this.consumers.length) {
      await bounded('stopping the consumers', Promise.allSettled(this.consumers.map((c) => c.stop())));
      this.logger.info({ consumers: this.consumers.length }, 'shutdown: consumers stopped (batches finished, offsets committed, groups left)');
    }
    if (this.kafkaConnecting) await bounded('connecting to Kafka', this.kafkaConnecting);
    await this.inboxSweep;
    await this.listener?.stop();
    await Promise.all([bounded('stopping the outbox relay', this.relay.stop()), bounded('closing the consumer lag probe', this.lagProbe.stop())]);
    if (this.kafkaRole !== 'none') await bounded('disconnecting the producer', this.producer.disconnect().catch(() => undefined));
    await Promise.all([this.knex.destroy(), this.consumerKnex.destroy()]);
    await flushTraces();
    this.logger.info('shutdown: relay, listener, producer and pools closed');
  }
}
