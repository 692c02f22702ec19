import { Knex } from 'knex';
import { Envelope } from '@booking/contracts';
import { quoteIdent } from '../database/database';
import { deleteOlderThan, query } from '../database/query';

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
    if ((await claimInbox(trx, schema, consumer, [event])).length === 0) return false;
    await effect(trx);
    return true;
  });
}

/**
 * Claims the inbox rows of a run of events inside the caller's transaction, in one prepared
 * statement, and returns the events not handled before, in order (an event twice in the run is
 * returned once). The caller's effects for them must commit in the same transaction.
 */
export async function claimInbox(trx: Knex.Transaction, schema: string, consumer: string, events: readonly Envelope[]): Promise<Envelope[]> {
  if (events.length === 0) return [];
  const { rows } = await query<{ event_id: string }>(trx, {
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

/**
 * Deletes inbox rows processed more than `retentionHours` ago (see deleteOlderThan); returns how many
 * went. A redelivery of an event older than that would be handled again, so the retention must outlast
 * the topics' retention (and any replay an operator might start). `stopped` ends it between batches.
 */
export function sweepInbox(knex: Knex, schema: string, retentionHours: number, stopped?: () => boolean): Promise<number> {
  return deleteOlderThan(knex, { table: `${quoteIdent(schema)}.inbox`, column: 'processed_at', hours: retentionHours, batchSize: 5000, stopped });
}
