import { Knex } from 'knex';
import type { ClientBase } from 'pg';
import { quoteIdent } from '../database/database';
import { Envelope } from '@booking/contracts';
import { withCorrelation } from '../logging/correlation';

/**
 * Runs `effect` exactly once per (consumer, event): the inbox row and the effect share one
 * transaction, so a redelivered event finds the row and does nothing, and a crash before commit
 * leaves neither. Returns false when the event had already been handled.
 */
export async function handleOnce(
  knex: Knex,
  schema: string,
  consumer: string,
  event: Envelope,
  effect: (trx: Knex.Transaction) => Promise<void>,
): Promise<boolean> {
  return knex.transaction(async (trx) => {
    const inserted = await trx
      .withSchema(schema)
      .table('inbox')
      .insert({ consumer, event_id: event.eventId, event_type: event.type })
      .onConflict(['consumer', 'event_id'])
      .ignore()
      .returning('event_id');
    if (inserted.length === 0) return false;
    await effect(trx);
    return true;
  });
}

/**
 * handleOnce for a run of events, in one transaction: one statement claims the inbox rows of all of
 * them, then `effect` runs for each event not handled before, in order, each under its own event's
 * correlation (so what it emits carries the right correlation and causation). All or nothing: if any
 * effect throws, no inbox row and no effect of the run is kept. Returns the events it handled.
 */
export async function handleEachOnce(
  knex: Knex,
  schema: string,
  consumer: string,
  events: readonly Envelope[],
  effect: (trx: Knex.Transaction, event: Envelope) => Promise<void>,
): Promise<Envelope[]> {
  if (events.length === 0) return [];
  return knex.transaction(async (trx) => {
    const claimed: { event_id: string }[] = await trx
      .withSchema(schema)
      .table('inbox')
      .insert(events.map((event) => ({ consumer, event_id: event.eventId, event_type: event.type })))
      .onConflict(['consumer', 'event_id'])
      .ignore()
      .returning('event_id');
    const fresh = new Set(claimed.map((row) => row.event_id.toLowerCase()));
    const handled: Envelope[] = [];
    for (const event of events) {
      // Deleting as we go: the same event twice in one run has one effect.
      if (!fresh.delete(event.eventId.toLowerCase())) continue;
      await withCorrelation({ correlationId: event.correlationId, causationId: event.eventId }, () => effect(trx, event));
      handled.push(event);
    }
    return handled;
  });
}

/**
 * Claims the inbox rows of a run of events on the caller's connection, inside the caller's
 * transaction, in one prepared statement, and returns the events not handled before, in order (an
 * event twice in the run is returned once). The caller's effects for them must commit in the same
 * transaction.
 */
export async function claimInbox(connection: ClientBase, schema: string, consumer: string, events: readonly Envelope[]): Promise<Envelope[]> {
  if (events.length === 0) return [];
  const { rows } = await connection.query<{ event_id: string }>({
    name: `inbox.claim.${schema}`,
    text: `INSERT INTO ${quoteIdent(schema)}.inbox (consumer, event_id, event_type)
           SELECT $1::text, e.event_id, e.event_type FROM unnest($2::uuid[], $3::text[]) AS e(event_id, event_type)
           ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id::text`,
    values: [consumer, events.map((e) => e.eventId), events.map((e) => e.type)],
  });
  const fresh = new Set(rows.map((row) => row.event_id.toLowerCase()));
  // Deleting as we go: the same event twice in one run is returned once.
  return events.filter((event) => fresh.delete(event.eventId.toLowerCase()));
}
