import type { Knex } from 'knex';
import type { Migration } from '@booking/platform';
import { PAYMENT_SCHEMA as S } from './schema';

const money = (t: Knex.CreateTableBuilder) => {
  t.bigInteger('amount_minor').notNullable();
  t.string('currency', 3).notNullable();
};

/** The payment schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [
  {
    name: '0001_payments_refunds_credits',
    up: async (knex) => {
      await knex.schema.withSchema(S).createTable('payments', (t) => {
        t.uuid('id').primary();
        // One charge per appointment: a redelivered or repeated request finds this row, not a new one.
        t.text('appointment_id').notNullable().unique();
        money(t);
        t.text('status').notNullable();
        t.text('idempotency_key').notNullable().unique();
        t.text('provider_ref');
        t.text('failure_reason');
        /** aggregateVersion of the last event emitted about this payment. */
        t.integer('version').notNullable().defaultTo(0);
        t.text('correlation_id').notNullable();
        t.uuid('request_event_id').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(['status', 'updated_at']);
      });
      await knex.raw(`ALTER TABLE ${S}.payments ADD CONSTRAINT payments_status_check
        CHECK (status IN ('PENDING', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT'))`);
      await knex.raw(`ALTER TABLE ${S}.payments ADD CONSTRAINT payments_amount_check CHECK (amount_minor > 0)`);

      // Refunds, credits and retained fees each remember the event that caused them: a second delivery,
      // even under another consumer name, cannot add a second row.
      const extras: Record<string, (t: Knex.CreateTableBuilder) => void> = {
        refunds: (t) => {
          // What the event asked for, when the payment's balance allowed less (the ledger view shows the gap).
          t.bigInteger('requested_minor').notNullable();
          t.text('provider_ref').notNullable();
        },
        credits: () => undefined,
        retained_fees: () => undefined,
      };
      for (const [table, extra] of Object.entries(extras)) {
        await knex.schema.withSchema(S).createTable(table, (t) => {
          t.uuid('id').primary();
          t.uuid('payment_id').notNullable().references('id').inTable(`${S}.payments`);
          t.text('appointment_id').notNullable();
          money(t);
          t.text('reason').notNullable();
          t.uuid('source_event_id').notNullable().unique();
          t.text('source_event_type').notNullable();
          t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
          t.index(['payment_id']);
          t.index(['appointment_id']);
          extra(t);
        });
        await knex.raw(`ALTER TABLE ${S}.${table} ADD CONSTRAINT ${table}_amount_check CHECK (amount_minor > 0)`);
      }

      await knex.schema.withSchema(S).createTable('provider_charges', (t) => {
        t.text('idempotency_key').primary();
        t.text('charge_id').notNullable().unique();
        money(t);
        t.text('payment_method').notNullable();
        t.text('status').notNullable();
        t.text('failure_reason');
        t.timestamp('completes_at', { useTz: true });
        t.bigInteger('refunded_minor').notNullable().defaultTo(0);
        t.integer('requests').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.raw(`ALTER TABLE ${S}.provider_charges ADD CONSTRAINT provider_charges_refund_check CHECK (refunded_minor BETWEEN 0 AND amount_minor)`);
      await knex.schema.withSchema(S).createTable('provider_refunds', (t) => {
        t.text('idempotency_key').primary();
        t.text('refund_id').notNullable().unique();
        t.text('charge_id').notNullable().references('charge_id').inTable(`${S}.provider_charges`);
        money(t);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });

      // Per appointment: captured − refunded − retained = held, the money still standing behind the
      // appointment. Reconciliation against scheduling: a CONFIRMED appointment holds its price (or, once
      // rescheduled, its latest credit); CANCELLED and NO_SHOW hold 0; retained equals the fees charged.
      await knex.raw(`
        CREATE VIEW ${S}.appointment_ledger AS
        SELECT p.appointment_id,
               p.id AS payment_id,
               p.currency,
               p.status,
               CASE WHEN p.status = 'SUCCEEDED' THEN p.amount_minor ELSE 0 END AS captured_minor,
               COALESCE(r.total, 0) AS refunded_minor,
               COALESCE(f.total, 0) AS retained_minor,
               CASE WHEN p.status = 'SUCCEEDED' THEN p.amount_minor ELSE 0 END - COALESCE(r.total, 0) - COALESCE(f.total, 0) AS held_minor,
               c.amount_minor AS credit_minor
          FROM ${S}.payments p
          LEFT JOIN (SELECT payment_id, SUM(amount_minor) AS total FROM ${S}.refunds GROUP BY payment_id) r ON r.payment_id = p.id
          LEFT JOIN (SELECT payment_id, SUM(amount_minor) AS total FROM ${S}.retained_fees GROUP BY payment_id) f ON f.payment_id = p.id
          LEFT JOIN LATERAL (SELECT amount_minor FROM ${S}.credits WHERE payment_id = p.id ORDER BY created_at DESC, id DESC LIMIT 1) c ON true`);
    },
  },
];
