import { Knex } from 'knex';
import { Producer } from 'kafkajs';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { Envelope, HEADER_CORRELATION_ID, HEADER_EVENT_ID, HEADER_EVENT_TYPE } from '@booking/contracts';
import { namespaced } from '../kafka/kafka';
import { outboxChannel } from './outbox';

export type OutboxRelayOptions = {
  databaseUrl: string;
  schema: string;
  namespace: string;
  pollIntervalMs?: number;
  batchSize?: number;
};

type OutboxRow = { id: string; event_id: string; topic: string; message_key: string; event_type: string; payload: Envelope };

/**
 * Publishes outbox rows to Kafka. Exactly one relay per service is active (a session advisory lock);
 * others stand by and take over if it dies. Woken by LISTEN/NOTIFY, with polling as a fallback.
 *
 * Rows are deleted one by one after Kafka acknowledged them, never by an id watermark: a row whose id
 * was taken by a transaction that commits late is simply picked up by the next round, so none is
 * skipped. Per-appointment order holds because one appointment's events are appended by transactions
 * that the event store's optimistic concurrency already serialises.
 */
export class OutboxRelay {
  private listener?: Client;
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private leader = false;
  private notified = false;

  constructor(
    private readonly knex: Knex,
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions,
  ) {}

  isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    this.listener = new Client({ connectionString: this.options.databaseUrl, application_name: `${this.options.schema}-relay` });
    this.listener.on('error', (error) => this.logger.error({ err: error }, 'outbox listener connection failed'));
    await this.listener.connect();
    this.listener.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    await this.listener.query(`LISTEN ${outboxChannel(this.options.schema)}`);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    const lockKey = `outbox-relay:${this.options.schema}`;
    while (!this.stopped) {
      try {
        if (!this.leader) {
          const { rows } = await listener.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [lockKey]);
          this.leader = rows[0].locked === true;
          if (this.leader) this.logger.info({ schema: this.options.schema }, 'outbox relay is active');
        }
        if (this.leader) {
          this.notified = false;
          const published = await this.publishBatch();
          if (published > 0) continue;
        }
      } catch (error) {
        this.logger.error({ err: error }, 'outbox relay round failed; retrying');
      }
      await this.sleep(this.leader ? (this.options.pollIntervalMs ?? 1000) : 2000);
    }
  }

  /** Publishes one batch; returns how many rows left the outbox. */
  async publishBatch(): Promise<number> {
    const rows: OutboxRow[] = await this.knex
      .withSchema(this.options.schema)
      .table('outbox')
      .select('id', 'event_id', 'topic', 'message_key', 'event_type', 'payload')
      .orderBy('id')
      .limit(this.options.batchSize ?? 500);
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push(row);
      byTopic.set(row.topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic: namespaced(this.options.namespace, topic),
        messages: list.map((row) => ({
          key: row.message_key,
          value: JSON.stringify(row.payload),
          // Headers come from the row's own columns where possible: a malformed payload must still
          // leave (and be dead-lettered by its consumers), never wedge the relay.
          headers: {
            [HEADER_EVENT_TYPE]: row.event_type,
            [HEADER_EVENT_ID]: row.event_id,
            ...(typeof row.payload?.correlationId === 'string' && { [HEADER_CORRELATION_ID]: row.payload.correlationId }),
          },
        })),
      })),
    });
    await this.knex
      .withSchema(this.options.schema)
      .table('outbox')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .delete();
    return rows.length;
  }

  private sleep(ms: number): Promise<void> {
    if (this.notified || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.leader = false;
  }
}
