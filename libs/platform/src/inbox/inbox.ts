import { Knex } from 'knex';
import { Envelope } from '@booking/contracts';

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
