import type { Migration } from '@booking/platform';

const SCHEMA = 'notification';

/** The notification schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [
  {
    name: '0001_deliveries',
    up: async (knex) => {
      // The delivery log: one row per (event, recipient, channel), which is also what makes a
      // redelivered event send nothing more.
      await knex.schema.withSchema(SCHEMA).createTable('deliveries', (t) => {
        t.uuid('id').primary();
        t.uuid('source_event_id').notNullable();
        t.text('source_event_type').notNullable();
        t.text('appointment_id').notNullable();
        t.text('reminder_id');
        t.text('recipient_role').notNullable();
        t.text('channel').notNullable();
        t.text('address');
        t.text('status').notNullable().defaultTo('PENDING');
        t.integer('attempts').notNullable().defaultTo(0);
        t.uuid('claim_token');
        t.timestamp('lease_expires_at', { useTz: true });
        t.text('last_error');
        t.text('provider_message_id');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('completed_at', { useTz: true });
        t.unique(['source_event_id', 'recipient_role', 'channel'], { indexName: 'deliveries_once' });
        t.index(['appointment_id'], 'deliveries_appointment');
      });
      await knex.raw(`
        ALTER TABLE ${SCHEMA}.deliveries
          ADD CONSTRAINT deliveries_status CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'FAILED')),
          ADD CONSTRAINT deliveries_role CHECK (recipient_role IN ('CLIENT', 'PROVIDER')),
          ADD CONSTRAINT deliveries_channel CHECK (channel IN ('EMAIL', 'SMS', 'PUSH')),
          ADD CONSTRAINT deliveries_lease CHECK ((status = 'SENDING') = (claim_token IS NOT NULL AND lease_expires_at IS NOT NULL))
      `);
      // Operators look for what is stuck; finished rows are the bulk and are not indexed here.
      await knex.raw(`CREATE INDEX deliveries_open ON ${SCHEMA}.deliveries (created_at) WHERE status IN ('PENDING', 'SENDING')`);
    },
  },
];
