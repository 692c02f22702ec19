import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { Envelope, eventContracts } from '@booking/contracts';
import { currentCorrelation } from '../logging/correlation';
import { Migration, quoteIdent } from '../database/database';
import { currentTraceparent } from '../tracing/propagation';

export type OutgoingEvent = {
  topic: string;
  type: string;
  aggregateId: string;
  aggregateVersion: number;
  data: Record<string, unknown>;
  schemaVersion?: number;
  occurredAt?: string;
  eventId?: string;
};

/**
 * The outbox and inbox tables of one service schema, in order, to run before the service's own
 * migrations. The relay publishes and deletes outbox rows in id order.
 */
export const outboxMigrations = (schema: string): Migration[] => [
  outboxTables(schema),
  {
    // The unique index on outbox.event_id guarded nothing (every event id is a fresh UUID, rows live
    // only until relayed, and consumers' inboxes drop a redelivered id) and cost every write that
    // appends events about 1 ms per 100 rows (the reminder claim, measured).
    name: '0000_outbox_event_id_not_unique',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE ${quoteIdent(schema)}.outbox DROP CONSTRAINT IF EXISTS outbox_event_id_unique`);
    },
  },
  {
    // A payload is written once and read once, as text, by the relay: json keeps the text as written
    // (validated, not parsed into a tree), where jsonb parsed every envelope on the way in and printed
    // it again on the way out. Writers that build the envelope in SQL (the reminder claim) build json.
    name: '0000_outbox_payload_json',
    contract: 'jsonb to json: every release writes payloads as JSON text and the relay reads them as text, which a json column takes and gives back as a jsonb one did',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE ${quoteIdent(schema)}.outbox ALTER COLUMN payload TYPE json USING payload::json`);
    },
  },
  {
    // The W3C trace context (`traceparent`) the row was written in: the relay continues that trace in
    // the message it publishes. Null when the writer was not traced.
    name: '0000_outbox_trace_parent',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE ${quoteIdent(schema)}.outbox ADD COLUMN IF NOT EXISTS trace_parent text`);
    },
  },
  {
    // For the sweep that trims the inbox to INBOX_RETENTION_HOURS (sweepInbox).
    name: '0000_inbox_processed_at',
    up: async (knex) => {
      await knex.raw(`CREATE INDEX IF NOT EXISTS inbox_processed_at ON ${quoteIdent(schema)}.inbox (processed_at)`);
    },
  },
];

/** The whole ordered migration list of a service schema: the platform's outbox and inbox first. */
export const serviceMigrations = (schema: string, own: readonly Migration[]): Migration[] => [...outboxMigrations(schema), ...own];

const outboxTables = (schema: string): Migration => ({
  name: '0000_outbox_inbox',
  up: async (knex) => {
    await knex.schema.withSchema(schema).createTable('outbox', (t) => {
      t.bigIncrements('id').primary();
      t.uuid('event_id').notNullable().unique();
      t.text('topic').notNullable();
      t.text('message_key').notNullable();
      t.text('event_type').notNullable();
      t.jsonb('payload').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.schema.withSchema(schema).createTable('inbox', (t) => {
      t.text('consumer').notNullable();
      t.uuid('event_id').notNullable();
      t.text('event_type').notNullable();
      t.timestamp('processed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['consumer', 'event_id']);
    });
  },
});

/** The version producers write: the contract's current one. */
const versionOf = (type: string): number => (Object.hasOwn(eventContracts, type) ? eventContracts[type as keyof typeof eventContracts].version : 1);

export function buildEnvelope(event: OutgoingEvent): Envelope {
  const correlation = currentCorrelation();
  return {
    eventId: event.eventId ?? randomUUID(),
    type: event.type,
    schemaVersion: event.schemaVersion ?? versionOf(event.type),
    occurredAt: event.occurredAt ?? new Date().toISOString(),
    aggregateId: event.aggregateId,
    aggregateVersion: event.aggregateVersion,
    correlationId: correlation?.correlationId ?? randomUUID(),
    causationId: correlation?.causationId ?? null,
    data: event.data,
  };
}

/**
 * Writes events to the outbox inside the caller's transaction, so they leave the service if and only
 * if the state change commits. A NOTIFY wakes the relay at commit.
 */
export async function appendToOutbox(trx: Knex.Transaction, schema: string, events: OutgoingEvent[]): Promise<Envelope[]> {
  if (events.length === 0) return [];
  const envelopes = events.map(buildEnvelope);
  const traceparent = currentTraceparent();
  const insert = trx
    .withSchema(schema)
    .table('outbox')
    .insert(
      envelopes.map((envelope, i) => ({
        event_id: envelope.eventId,
        topic: events[i].topic,
        message_key: envelope.aggregateId,
        event_type: envelope.type,
        payload: envelope,
        trace_parent: traceparent,
      })),
    )
    .toSQL();
  // One round trip: the rows and the NOTIFY that wakes the relay at commit.
  await trx.raw(`WITH inserted AS (${insert.sql} RETURNING 1) SELECT pg_notify('${outboxChannel(schema)}', '') FROM (SELECT 1 FROM inserted LIMIT 1) AS once`, insert.bindings as Knex.RawBinding[]);
  return envelopes;
}

export const outboxChannel = (schema: string) => `${schema}_outbox`;
