import { Knex } from 'knex';
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
    const handled: Envelope[] = [];
    for (const event of await claimInbox(trx, schema, consumer, events)) {
      await withCorrelation({ correlationId: event.correlationId, causationId: event.eventId }, () => effect(trx, event));
      handled.push(event);
    }
    return handled;
  });
}

/**
 * Claims the inbox rows of a run of events in the caller's transaction, in one statement, and returns
 * the events not handled before, in order (an event twice in the run is returned once). The caller's
 * effects for them must commit in the same transaction.
 */
export async function claimInbox(trx: Knex.Transaction, schema: string, consumer: string, events: readonly Envelope[]): Promise<Envelope[]> {
  if (events.length === 0) return [];
  const claimed: { event_id: string }[] = await trx
    .withSchema(schema)
    .table('inbox')
    .insert(events.map((event) => ({ consumer, event_id: event.eventId, event_type: event.type })))
    .onConflict(['consumer', 'event_id'])
    .ignore()
    .returning('event_id');
  const fresh = new Set(claimed.map((row) => row.event_id.toLowerCase()));
  // Deleting as we go: the same event twice in one run is returned once.
  return events.filter((event) => fresh.delete(event.eventId.toLowerCase()));
}
