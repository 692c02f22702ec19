import { Knex } from 'knex';
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

type PoolOwner = { acquireConnection(): Promise<PoolClient>; releaseConnection(connection: PoolClient): Promise<void> };

/**
 * Runs one statement straight through `pg` on a connection of the service's knex pool — or, given a
 * knex transaction, on that transaction's connection: for the hot paths, where knex's query building
 * costs more than the query. Give `name` to have the statement prepared once per connection.
 */
export async function query<R extends QueryResultRow>(knex: Knex, config: QueryConfig): Promise<QueryResult<R>> {
  // A transaction's client lends that transaction's connection, and its release does nothing.
  const pool = knex.client as PoolOwner;
  const connection = await pool.acquireConnection();
  try {
    return await connection.query<R>(config);
  } finally {
    await pool.releaseConnection(connection);
  }
}
