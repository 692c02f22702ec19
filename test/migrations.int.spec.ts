import { Knex } from 'knex';
import { createKnex, Migration, prepareDatabase, quoteIdent, serviceMigrations } from '@booking/platform';
import { TestEnvironment } from '@booking/platform/testing';
import { migrations as gateway } from '../services/api-gateway/src/migrations';
import { migrations as notification } from '../services/notification/src/migrations';
import { migrations as payment } from '../services/payment/src/migrations';
import { migrations as reminder } from '../services/reminder/src/migrations';
import { migrations as scheduling } from '../services/scheduling/src/migrations';

/**
 * The expand/contract rule, checked on the statements every migration really runs: a migration may
 * add (tables, nullable or defaulted columns, indexes, functions, triggers), because the release before
 * it must keep working on the migrated schema — that is what a rollback runs on. Statements that take
 * away or change what that release uses (dropping or renaming a table or column, changing a column's
 * type, making a column NOT NULL, adding a NOT NULL column without a default, adding a constraint to
 * an existing table, truncating) are allowed only in a migration marked `contract`, which says why
 * it is safe: such a step ships one release after the code stopped depending on what it removes.
 */
const CONTRACT = [
  /\bdrop\s+(table|column|schema|view|type|function|trigger)\b/i,
  /\brename\b/i,
  /\balter\s+column\s+\S+\s+(set\s+not\s+null|type|set\s+data\s+type)\b/i,
  /\badd\s+column\s+[^,;]*\bnot\s+null\b(?![^,;]*\bdefault\b)/i,
  /(^|;)\s*truncate\b/i,
];
const ADDS_CONSTRAINT = /\balter\s+table\s+(?:only\s+)?(?:if\s+exists\s+)?([\w."]+)[^;]*\badd\s+(constraint|check|unique|exclude|primary|foreign)\b/i;
const CREATES_TABLE = /\bcreate\s+table\s+(?:if\s+not\s+exists\s+)?([\w."]+)/gi;
const bare = (name: string) => name.replace(/"/g, '').split('.').pop()!.toLowerCase();

/** The statements that break the release before, unless the table was created by the same migration. */
function contractStatements(statements: readonly string[]): string[] {
  const created = new Set(statements.flatMap((sql) => [...sql.matchAll(CREATES_TABLE)].map((m) => bare(m[1]))));
  return statements.filter((sql) => {
    if (CONTRACT.some((pattern) => pattern.test(sql))) return true;
    const constraint = ADDS_CONSTRAINT.exec(sql);
    return constraint !== null && !created.has(bare(constraint[1]));
  });
}

describe('migrations follow expand/contract', () => {
  const env = new TestEnvironment();
  const lists: Record<string, readonly Migration[]> = { gateway, scheduling, payment, notification, reminder };
  let knex: Knex;

  beforeAll(async () => {
    await prepareDatabase(env.databaseUrl, 'public');
    knex = createKnex(env.databaseUrl, 'public', 2);
  });

  afterAll(async () => {
    await knex?.destroy();
    await env.destroy();
  });

  it('recognises the statements that break the release before', () => {
    expect(contractStatements(['ALTER TABLE "s"."t" DROP COLUMN a'])).toHaveLength(1);
    expect(contractStatements(['ALTER TABLE t RENAME COLUMN a TO b'])).toHaveLength(1);
    expect(contractStatements(['ALTER TABLE t ALTER COLUMN a SET NOT NULL'])).toHaveLength(1);
    expect(contractStatements(['ALTER TABLE t ADD COLUMN a text NOT NULL'])).toHaveLength(1);
    expect(contractStatements(['ALTER TABLE s.t ADD CONSTRAINT c CHECK (a > 0)'])).toHaveLength(1);
    expect(contractStatements(['TRUNCATE s.t'])).toHaveLength(1);
    expect(contractStatements(['CREATE TRIGGER x AFTER TRUNCATE ON t FOR EACH STATEMENT EXECUTE FUNCTION f()'])).toHaveLength(0);
    expect(contractStatements(['CREATE TABLE s.t (a int)', 'ALTER TABLE s.t ADD CONSTRAINT c CHECK (a > 0)'])).toHaveLength(0);
    expect(contractStatements(['ALTER TABLE t ADD COLUMN a text NOT NULL DEFAULT \'x\'', 'ALTER TABLE t ADD COLUMN b text', 'CREATE INDEX i ON t (a)'])).toHaveLength(0);
  });

  for (const [schema, own] of Object.entries(lists)) {
    it(`${schema}: only migrations marked contract take anything away`, async () => {
      await knex.raw(`CREATE SCHEMA ${quoteIdent(schema)}`);
      const unmarked: Record<string, string[]> = {};
      for (const migration of serviceMigrations(schema, own)) {
        const statements: string[] = [];
        const record = (query: { sql: string }) => statements.push(query.sql);
        if (migration.transaction === false) {
          // Run as the migrator runs it: outside a transaction (CREATE INDEX CONCURRENTLY), on the schema.
          const own = createKnex(env.databaseUrl, schema, 1);
          own.on('query', record);
          try {
            await migration.up(own);
          } finally {
            await own.destroy();
          }
        } else {
          await knex.transaction(async (trx) => {
            await trx.raw(`SET LOCAL search_path TO ${quoteIdent(schema)}, public`);
            knex.on('query', record);
            try {
              await migration.up(trx);
            } finally {
              knex.off('query', record);
            }
          });
        }
        const contract = contractStatements(statements);
        if (contract.length && !migration.contract) unmarked[migration.name] = contract;
      }
      expect(unmarked).toEqual({});
    });
  }
});
