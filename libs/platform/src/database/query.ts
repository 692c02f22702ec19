import { Knex } from 'knex';
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { namedStatements } from './database';

type PoolOwner = { acquireConnection(): Promise<PoolClient>; releaseConnection(connection: PoolClient): Promise<void> };

/**
 * Runs one statement straight through `pg` on a connection of the service's knex pool — or, given a
 * knex transaction, on that transaction's connection: for the hot paths, where knex's query building
 * costs more than the query. Give `name` to have the statement prepared once per connection (unless the
 * knex runs behind a transaction pooler: see `createKnex`).
 */
export async function query<R extends QueryResultRow>(knex: Knex, config: QueryConfig): Promise<QueryResult<R>> {
  // A transaction's client lends that transaction's connection, and its release does nothing.
  const pool = knex.client as PoolOwner;
  const connection = await pool.acquireConnection();
  try {
    return await connection.query<R>(config.name && !namedStatements(knex) ? { ...config, name: undefined } : config);
  } finally {
    await pool.releaseConnection(connection);
  }
}

/**
 * Deletes the rows of `table` (schema-qualified, quoted) whose `column` — a timestamp the database
 * wrote — is more than `hours` old, in batches of short statements that skip rows another sweeper
 * holds, until a batch comes back short or `stopped()` says so; returns how many went. Retention
 * sweeps (inbox rows, booking Idempotency-Keys) share it.
 */
export async function deleteOlderThan(
  knex: Knex,
  options: { table: string; column: string; hours: number; batchSize?: number; stopped?: () => boolean },
): Promise<number> {
  const { table, column, hours, batchSize = 1000, stopped = () => false } = options;
  let removed = 0;
  for (;;) {
    const { rowCount } = await query(knex, {
      name: `sweep.${table}.${column}`,
      text: `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM ${table} WHERE ${column} < now() - make_interval(hours => $1::int)
                LIMIT $2::int FOR UPDATE SKIP LOCKED))`,
      values: [hours, batchSize],
    });
    removed += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize || stopped()) return removed;
  }
}
