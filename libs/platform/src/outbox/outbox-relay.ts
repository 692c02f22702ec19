import type { Span } from '@opentelemetry/api';
import { Producer } from 'kafkajs';
import type { Knex } from 'knex';
import { Client, ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { HEADER_CORRELATION_ID, HEADER_EVENT_ID, HEADER_EVENT_TYPE } from '@booking/contracts';
import { asClientConfig, quoteIdent } from '../database/database';
import { namespaced } from '../kafka/kafka';
import { endSpan, publishSpan } from '../tracing/kafka-spans';
import { TRACEPARENT } from '../tracing/propagation';

export type OutboxRelayOptions = {
  /** A session of its own (DATABASE_DIRECT_URL): it holds a session advisory lock and a session setting. */
  connection: string | ClientConfig;
  schema: string;
  namespace: string;
  pollIntervalMs?: number;
  batchSize?: number;
  /** Vacuum the outbox after this many deleted rows; 0 or unset: never (autovacuum's job). */
  vacuumEveryRows?: number;
  /** Told after every round of the active relay: how long it took and how many rows it sent. */
  onRound?: (seconds: number, published: number) => void;
};

/** The backlog gauge counts at most this many rows: a scrape must stay cheap however large the outbox grew. */
const BACKLOG_COUNT_LIMIT = 100_000;

type Session = { client: Client; broken: boolean };

type OutboxRow = { id: string; event_id: string; topic: string; message_key: string; event_type: string; payload: string; correlation_id: string | null; trace_parent: string | null };

/**
 * Publishes outbox rows to Kafka. Exactly one relay per service is active (a session advisory lock);
 * others stand by and take over if it dies. Woken by NOTIFY (`notify()`, called by the service's
 * listening session), with polling as a fallback.
 *
 * Everything the relay does runs on its one session — the one holding the lock — so
 * a relay that lost its connection has lost the lock too and publishes nothing more until it holds
 * the lock again on a new session.
 *
 * A round is one statement and one send: the statement deletes the rows of the previous send (which
 * Kafka has acknowledged) and reads the next rows in id order; the send publishes those. Rows are
 * deleted by id, never by an id watermark: a row whose id was taken by a transaction that commits late
 * is simply read by a later round, so none is skipped. The relay keeps going while rounds come back
 * full; after a round that was not, it sleeps until the next notification (or poll), and that round's
 * statement deletes what this one sent. A sent row thus stays until the next round, which costs nothing
 * (a row read again after a crash is sent again, as always) and spares a statement per wake-up: at a
 * steady trickle of events, one round per notification instead of two.
 *
 * Per-appointment order holds because one appointment's events are appended by transactions that the
 * event store's optimistic concurrency already serialises, and each round is sent only after the
 * previous one was acknowledged.
 *
 * Every row the outbox ever held becomes a dead tuple, and a dead tuple stays until the table is
 * vacuumed. Where autovacuum is off or behind (a busy queue table is its classic blind spot), the heap
 * grows without bound and every write and read of the outbox slows down: in the saga benchmark, after
 * the earlier sections had left 80k dead rows, booking → CONFIRMED took 29-57 ms at the median instead
 * of 14-15. So the active relay vacuums its own outbox every `vacuumEveryRows` deleted rows, on a
 * connection of its own, in the background: a plain VACUUM blocks neither the relay nor the writers,
 * and on a table that is nearly all dead rows it takes tens of milliseconds.
 *
 * The deletes are committed without waiting for the WAL flush (`synchronous_commit = off` on this
 * session only): a Postgres crash can lose the last few deletes, never an event — those rows are sent
 * again, in order, and consumers' inboxes drop the duplicates, as after any crash between a send and
 * its delete. The business transactions that write the rows keep their synchronous commits.
 */
export class OutboxRelay {
  private session?: Session;
  private stopped = false;
  /** Settles when stop() is called: a send waiting for an unreachable broker (the producer retries without a limit) is given up. */
  private readonly stopping: Promise<'stopping'>;
  private stop$!: () => void;
  private wake?: () => void;
  private loop?: Promise<void>;
  private leader = false;
  private notified = false;
  /** Ids sent and acknowledged but not yet deleted. */
  private sent: string[] = [];
  /** Rows deleted since the last vacuum, and the vacuum running now, if any. */
  private deletedSinceVacuum = 0;
  private vacuuming?: Promise<void>;
  private lastFailure?: string;

  constructor(
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions,
  ) {
    this.stopping = new Promise((resolve) => (this.stop$ = () => resolve('stopping')));
  }

  private get batchSize(): number {
    return this.options.batchSize ?? 500;
  }

  isLeader(): boolean {
    return this.leader;
  }

  /**
   * Rows were written (a NOTIFY on the outbox channel, heard by the service's one listening session,
   * see `Platform`): the active relay starts a round now instead of at its next poll.
   */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  /**
   * Starts the relay's loop and returns: it connects (and reconnects) on its own, so neither Postgres
   * nor the broker has to answer for the service to start; the rows wait in the outbox meanwhile.
   */
  start(): void {
    this.loop ??= this.run();
  }

  /** The error of the last round if it failed (the broker or Postgres away), undefined after a good one. */
  failing(): string | undefined {
    return this.lastFailure;
  }

  private async connect(): Promise<Session> {
    const client = new Client({ ...asClientConfig(this.options.connection), application_name: `${this.options.schema}-relay` });
    const session: Session = { client, broken: false };
    const broke = () => {
      session.broken = true;
      this.wake?.();
    };
    client.on('error', (error) => {
      if (!this.stopped) this.logger.error({ err: error }, 'outbox relay connection failed');
      broke();
    });
    client.on('end', broke);
    try {
      await client.connect();
      await client.query('SET synchronous_commit TO off');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.session = session;
    return session;
  }

  /** Replaces a broken session: its lock went with it, so this relay is no longer the active one. */
  private async reconnectIfBroken(): Promise<Session> {
    if (this.session && !this.session.broken) return this.session;
    if (this.leader) this.logger.warn({ schema: this.options.schema }, 'outbox relay lost its session and with it the lock');
    this.leader = false;
    this.sent = [];
    const old = this.session;
    this.session = undefined;
    await old?.client.end().catch(() => undefined);
    return this.connect();
  }

  private async run(): Promise<void> {
    const lockKey = `outbox-relay:${this.options.schema}`;
    while (!this.stopped) {
      try {
        const session = await this.reconnectIfBroken();
        if (!this.leader) {
          const { rows } = await session.client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [lockKey]);
          this.leader = rows[0].locked === true;
          if (this.leader) this.logger.info({ schema: this.options.schema }, 'outbox relay is active');
        }
        if (this.leader) {
          this.notified = false;
          const started = process.hrtime.bigint();
          const published = await this.publishBatch();
          this.options.onRound?.(Number(process.hrtime.bigint() - started) / 1e9, published);
          if (this.lastFailure) this.logger.info({ schema: this.options.schema }, 'outbox relay publishes again');
          this.lastFailure = undefined;
          // A full round: more may be waiting. Anything committed since this round's read has notified.
          if (published >= this.batchSize) continue;
        }
      } catch (error) {
        // Once per outage: the rows wait in the outbox and the rounds go on.
        if (this.stopped) this.logger.warn({ err: error }, 'outbox relay stopped during a round; its unsent rows stay in the outbox');
        else if (!this.lastFailure) this.logger.warn({ err: error }, 'outbox relay round failed; the rows wait in the outbox, retrying');
        this.lastFailure = (error as Error).message || String(error);
      }
      // A standby ignores notifications (they are for the active relay) and asks for the lock now and then.
      if (this.leader) await this.sleep(this.options.pollIntervalMs ?? 1000, true);
      else await this.sleep(2000, false);
    }
  }

  /**
   * One round: deletes what the previous round sent, reads the next rows and sends them. Returns how
   * many rows it sent (they are deleted by the next round).
   */
  async publishBatch(): Promise<number> {
    const session = this.session;
    if (!session || session.broken || !this.leader) throw new Error('outbox relay is not the active one');
    const { client } = session;
    const outbox = `${quoteIdent(this.options.schema)}.outbox`;
    const columns = `id, event_id, topic, message_key, event_type, payload::text AS payload, payload->>'correlationId' AS correlation_id, trace_parent`;
    const limit = this.batchSize;
    const sent = this.sent;
    // The read sees the table as it was before the delete in the same statement, hence the exclusion.
    // Both statements are prepared on the relay's session: they run on every round.
    const { rows } = sent.length
      ? await client.query<OutboxRow>({
          name: `outbox-relay.delete-and-next.${this.options.schema}`,
          text: `WITH gone AS (DELETE FROM ${outbox} WHERE id = ANY($1::bigint[]))
           SELECT ${columns} FROM ${outbox} WHERE id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`,
          values: [sent, limit],
        })
      : await client.query<OutboxRow>({ name: `outbox-relay.next.${this.options.schema}`, text: `SELECT ${columns} FROM ${outbox} ORDER BY id LIMIT $1`, values: [limit] });
    this.deletedSinceVacuum += sent.length;
    this.sent = [];
    this.vacuumIfDue();
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push(row);
      byTopic.set(row.topic, list);
    }
    const spans: Span[] = [];
    const sending = this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic: namespaced(this.options.namespace, topic),
        messages: list.map((row) => {
          // The trace the row was written in goes on, through a publish span, in the message's header.
          const { traceparent, span } = publishSpan(topic, row.event_type, row.trace_parent);
          if (span) spans.push(span);
          return {
            key: row.message_key,
            value: row.payload,
            // Headers come from the row's own columns where possible: a malformed payload must still
            // leave (and be dead-lettered by its consumers), never wedge the relay.
            headers: {
              [HEADER_EVENT_TYPE]: row.event_type,
              [HEADER_EVENT_ID]: row.event_id,
              ...(row.correlation_id !== null && { [HEADER_CORRELATION_ID]: row.correlation_id }),
              ...(traceparent !== null && { [TRACEPARENT]: traceparent }),
            },
          };
        }),
      })),
    });
    try {
      // At shutdown a send still waiting for the broker is given up: its rows stay in the outbox (not
      // marked sent) and go again from the next relay, so consumers' inboxes absorb a late duplicate.
      sending.catch(() => undefined);
      if ((await Promise.race([sending, this.stopping])) === 'stopping') throw new Error('outbox relay stopped while a send was waiting for the broker');
    } catch (error) {
      for (const span of spans) endSpan({ span }, error);
      throw error;
    }
    for (const span of spans) span.end();
    this.sent = rows.map((r) => r.id);
    return rows.length;
  }

  /**
   * Rows waiting to be published (up to 100000) and the age of the oldest, read on `knex` (not the
   * relay's session) by the active relay's instance; rows already sent and only waiting for the next
   * round's delete do not count. A standby answers undefined: the active relay's instance reports.
   */
  async backlog(knex: Knex): Promise<{ waiting: number; oldestAgeSeconds: number } | undefined> {
    if (!this.leader) return undefined;
    const outbox = `${quoteIdent(this.options.schema)}.outbox`;
    const sent = `{${this.sent.join(',')}}`;
    const { rows } = await knex.raw<{ rows: { waiting: number; oldest: number | null }[] }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM ${outbox} WHERE id <> ALL(?::bigint[]) LIMIT ${BACKLOG_COUNT_LIMIT}) AS w)::int AS waiting,
              extract(epoch FROM clock_timestamp() - (SELECT created_at FROM ${outbox} WHERE id <> ALL(?::bigint[]) ORDER BY id LIMIT 1))::float8 AS oldest`,
      [sent, sent],
    );
    return { waiting: rows[0].waiting, oldestAgeSeconds: Math.max(0, rows[0].oldest ?? 0) };
  }

  /** Starts a background VACUUM of the outbox once enough rows were deleted since the last one. */
  private vacuumIfDue(): void {
    const every = this.options.vacuumEveryRows ?? 0;
    if (every <= 0 || this.deletedSinceVacuum < every || this.vacuuming || this.stopped) return;
    this.deletedSinceVacuum = 0;
    this.vacuuming = this.vacuum().finally(() => (this.vacuuming = undefined));
  }

  private async vacuum(): Promise<void> {
    const client = new Client({ ...asClientConfig(this.options.connection), application_name: `${this.options.schema}-relay-vacuum` });
    client.on('error', () => undefined); // reported by the query below, or irrelevant once it is done
    const started = Date.now();
    try {
      await client.connect();
      await client.query(`VACUUM ${quoteIdent(this.options.schema)}.outbox`);
      this.logger.debug({ schema: this.options.schema, ms: Date.now() - started }, 'outbox vacuumed');
    } catch (error) {
      this.logger.warn({ err: error, schema: this.options.schema }, 'outbox vacuum failed; the next one is tried after as many rows again');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private sleep(ms: number, wakeOnNotify: boolean): Promise<void> {
    // A broken session is replaced at once; a failed reconnect (no session) waits like any round.
    const due = () => this.stopped || this.session?.broken === true || (wakeOnNotify && this.notified);
    if (due()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        if (!due()) return;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stop$();
    this.wake?.();
    await this.loop;
    await this.vacuuming;
    // What the last round sent is deleted before the session (and the lock) goes.
    const session = this.session;
    if (this.leader && this.sent.length && session && !session.broken) {
      await session.client
        .query(`DELETE FROM ${quoteIdent(this.options.schema)}.outbox WHERE id = ANY($1::bigint[])`, [this.sent])
        .catch((error) => this.logger.warn({ err: error }, 'outbox relay could not delete its last sent rows; they will be sent again'));
      this.sent = [];
    }
    this.session = undefined;
    await session?.client.end().catch(() => undefined);
    this.leader = false;
  }
}
