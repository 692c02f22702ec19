import type { Migration } from '@booking/platform';

/** The gateway schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [
  {
    name: '0001_idempotency_keys',
    up: async (knex) => {
      await knex.raw(`
        -- Idempotency-Keys of the POSTs whose effect the gateway cannot record atomically itself
        -- (everything but booking, whose key scheduling records in the booking's own transaction).
        CREATE TABLE idempotency_keys (
          caller text NOT NULL,
          key text NOT NULL,
          request_hash text NOT NULL,
          state text NOT NULL CHECK (state IN ('IN_PROGRESS','DONE')),
          -- Fences a claim: only the attempt holding this token may finish or release the row.
          claim_token uuid NOT NULL,
          -- An IN_PROGRESS claim older than this was abandoned (a crashed instance): a retry may take it over.
          locked_until timestamptz NOT NULL,
          response_status integer,
          response_body jsonb,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (caller, key),
          CHECK ((state = 'DONE') = (response_status IS NOT NULL))
        );
        CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
      `);
    },
  },
  {
    // A replay must be the first answer byte for byte: jsonb reorders keys, so the answer is kept as
    // the JSON text that was sent. Rows written before keep their jsonb (read when the text is null).
    name: '0002_idempotency_keys_response_text',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE idempotency_keys ADD COLUMN response_text text`);
    },
  },
];
