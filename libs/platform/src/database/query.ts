import { Knex } from 'knex';
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

type PoolOwner = { acquireConnection(): Promise<PoolClient>; releaseConnection(connection: PoolClient): Promise<void> };

/**
 * Runs one statement on a connection of the service's knex pool, straight through `pg`: for the hot
 * paths, where knex's query building costs more than the query. Give `name` to have the statement
 * prepared once per connection.
 */
export async function query<R extends QueryResultRow>(knex: Knex, config: QueryConfig): Promise<QueryResult<R>> {
  return withConnection(knex, (connection) => connection.query<R>(config));
}

/** Lends `work` a connection of the knex pool (and takes it back), for several pg statements in a row. */
export async function withConnection<T>(knex: Knex, work: (connection: PoolClient) => Promise<T>): Promise<T> {
  const pool = knex.client as PoolOwner;
  const connection = await pool.acquireConnection();
  try {
    return await work(connection);
  } finally {
    await pool.releaseConnection(connection);
  }
}

/**
 * A transaction on one connection of the knex pool, straight through pg, so that its statements can
 * be prepared (named): BEGIN, `work`, COMMIT — or ROLLBACK if `work` throws.
 */
export async function pgTransaction<T>(knex: Knex, work: (connection: PoolClient) => Promise<T>): Promise<T> {
  return withConnection(knex, async (connection) => {
    await connection.query('BEGIN');
    try {
      const result = await work(connection);
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot roll back is given up (knex's pool drops a disposed connection)
      // rather than lent out again inside a transaction.
      await connection.query('ROLLBACK').catch((rollbackError: unknown) => {
        (connection as PoolClient & { __knex__disposed?: unknown }).__knex__disposed = rollbackError;
      });
      throw error;
    }
  });
}
