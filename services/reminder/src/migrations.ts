import type { Migration } from '@booking/platform';
import { CHANNELS, REMINDER_STATUSES } from './reminders/reminder-status';

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(',');

/** The reminder schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [
  {
    name: '0001_reminders',
    up: async (knex) => {
      await knex.raw(`
        -- What this service knows of each appointment: the latest version it applied, so that an event
        -- arriving out of order (a Confirmed after its Cancelled) cannot bring old reminders back, and
        -- the data a ReminderDue carries. Its row lock is what a cancellation and a worker meet on.
        CREATE TABLE appointments (
          appointment_id text PRIMARY KEY,
          version integer NOT NULL,
          status text NOT NULL CHECK (status IN ('CONFIRMED','CANCELLED')),
          start_time timestamptz NOT NULL,
          end_time timestamptz NOT NULL,
          client jsonb NOT NULL,
          provider jsonb NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE reminders (
          reminder_id uuid PRIMARY KEY,
          appointment_id text NOT NULL REFERENCES appointments(appointment_id),
          -- The appointment version that planned it; a worker dispatches it only while that is current.
          appointment_version integer NOT NULL,
          channel text NOT NULL CHECK (channel IN (${list(CHANNELS)})),
          offset_minutes integer NOT NULL CHECK (offset_minutes > 0),
          fire_at timestamptz NOT NULL,
          status text NOT NULL CHECK (status IN (${list(REMINDER_STATUSES)})),
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          dispatched_at timestamptz,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        );

        -- The queue: only SCHEDULED rows, in fire order, so a claim reads just the due head.
        CREATE INDEX reminders_due ON reminders (fire_at) WHERE status = 'SCHEDULED';
        CREATE INDEX reminders_by_appointment ON reminders (appointment_id);
        -- Never two live reminders of the same kind for one appointment, whatever the event order.
        CREATE UNIQUE INDEX reminders_one_scheduled ON reminders (appointment_id, channel, offset_minutes)
          WHERE status = 'SCHEDULED';
      `);
    },
  },
  {
    // The contacts are only ever copied, whole, into ReminderDue envelopes, which the claim builds as
    // json: kept as json text they are copied as they are, not printed from jsonb on every claim.
    name: '0002_appointment_contacts_json',
    contract: 'jsonb to json: the contacts are written as JSON text parameters and only ever copied whole, which a json column takes as a jsonb one did',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE appointments ALTER COLUMN client TYPE json USING client::json, ALTER COLUMN provider TYPE json USING provider::json`);
    },
  },
  {
    // The W3C trace context (`traceparent`) of the event that planned the reminder: the claim copies it
    // into the ReminderDue outbox row, so the ReminderDue and its notification continue the booking's
    // trace. Expand only: a reminder planned by an older release has none (its ReminderDue starts a trace).
    name: '0003_reminder_trace_parent',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE reminders ADD COLUMN IF NOT EXISTS trace_parent text`);
    },
  },
];
