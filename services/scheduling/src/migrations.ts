import type { Migration } from '@booking/platform';

const LIVE = `status IN ('PENDING','CONFIRMED')`;

/** The scheduling schema, in order. Never edit an applied migration; add a new one. */
export const migrations: Migration[] = [
  {
    name: '0001_scheduling',
    up: async (knex) => {
      await knex.raw(`
        CREATE TABLE providers (
          id uuid PRIMARY KEY,
          name text NOT NULL,
          time_zone text NOT NULL,
          slot_duration_minutes integer NOT NULL CHECK (slot_duration_minutes BETWEEN 5 AND 480),
          working_hours jsonb NOT NULL,
          date_overrides jsonb NOT NULL DEFAULT '{}',
          buffer_before_minutes integer NOT NULL DEFAULT 0,
          buffer_after_minutes integer NOT NULL DEFAULT 0,
          minimum_notice_minutes integer NOT NULL DEFAULT 0,
          booking_horizon_days integer NOT NULL DEFAULT 90,
          price_minor bigint NOT NULL DEFAULT 0 CHECK (price_minor >= 0),
          currency char(3) NOT NULL DEFAULT 'USD',
          cancellation_policy jsonb NOT NULL,
          contact jsonb NOT NULL DEFAULT '{}',
          version integer NOT NULL DEFAULT 1,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          deleted_at timestamptz
        );

        CREATE TABLE blocked_times (
          id uuid PRIMARY KEY,
          provider_id uuid NOT NULL REFERENCES providers(id),
          start_time timestamptz NOT NULL,
          end_time timestamptz NOT NULL,
          reason text NOT NULL CHECK (reason IN ('VACATION','BREAK','PERSONAL')),
          note text,
          created_at timestamptz NOT NULL DEFAULT now(),
          CHECK (end_time > start_time)
        );
        CREATE INDEX blocked_times_provider_range ON blocked_times USING gist (provider_id, tstzrange(start_time, end_time, '[)'));

        -- The append-only event store: one stream per appointment (and per provider).
        CREATE TABLE events (
          position bigserial PRIMARY KEY,
          event_id uuid NOT NULL UNIQUE,
          stream_id uuid NOT NULL,
          stream_type text NOT NULL,
          version integer NOT NULL,
          type text NOT NULL,
          data jsonb NOT NULL,
          correlation_id text,
          occurred_at timestamptz NOT NULL,
          UNIQUE (stream_id, version)
        );

        -- Projection of appointment streams, written in the same transaction as their events.
        -- blocked_start/blocked_end include the buffers; the exclusion constraint guards them.
        CREATE TABLE appointments (
          id uuid PRIMARY KEY,
          provider_id uuid NOT NULL REFERENCES providers(id),
          client_id text NOT NULL,
          start_time timestamptz NOT NULL,
          end_time timestamptz NOT NULL,
          blocked_start timestamptz NOT NULL,
          blocked_end timestamptz NOT NULL,
          status text NOT NULL CHECK (status IN ('PENDING','CONFIRMED','CANCELLED','COMPLETED','NO_SHOW')),
          cancel_reason text,
          price_minor bigint NOT NULL,
          currency char(3) NOT NULL,
          paid_minor bigint NOT NULL DEFAULT 0,
          payment_id text,
          fee_minor bigint NOT NULL DEFAULT 0,
          refund_minor bigint NOT NULL DEFAULT 0,
          hold_expires_at timestamptz,
          policy jsonb NOT NULL,
          client jsonb NOT NULL,
          version integer NOT NULL,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          CHECK (end_time > start_time),
          CHECK (blocked_start <= start_time AND blocked_end >= end_time),
          CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
            provider_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&
          ) WHERE (${LIVE})
        );
        CREATE UNIQUE INDEX appointments_one_live_per_start ON appointments (provider_id, start_time) WHERE ${LIVE};
        CREATE INDEX appointments_pending_expiry ON appointments (hold_expires_at) WHERE status = 'PENDING';
        CREATE INDEX appointments_client ON appointments (client_id, start_time);
        CREATE INDEX appointments_provider_start ON appointments (provider_id, start_time);

        -- Idempotency-Key records, written in the transaction of the effect they guard.
        CREATE TABLE idempotency_keys (
          caller text NOT NULL,
          key text NOT NULL,
          request_hash text NOT NULL,
          response_status integer NOT NULL,
          response_body jsonb NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (caller, key)
        );
      `);
    },
  },
  {
    // Slot answers are memoised per instance and invalidated by these notifications (see
    // AvailabilityWatch): every change to what makes a provider's slots, made by any writer, notifies
    // `<schema>_availability` with the provider's id at commit ('*' when a table is truncated).
    // Changes that leave the slots as they were (a PENDING appointment confirmed, a payment id set) do
    // not notify.
    name: '0002_availability_notifications',
    up: async (knex) => {
      await knex.raw(`
        CREATE FUNCTION notify_availability() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            PERFORM pg_notify(TG_TABLE_SCHEMA || '_availability', '*');
          ELSE
            IF TG_OP <> 'INSERT' THEN PERFORM pg_notify(TG_TABLE_SCHEMA || '_availability', OLD.provider_id::text); END IF;
            IF TG_OP <> 'DELETE' THEN PERFORM pg_notify(TG_TABLE_SCHEMA || '_availability', NEW.provider_id::text); END IF;
          END IF;
          RETURN NULL;
        END $$;
        CREATE FUNCTION notify_provider_availability() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify(TG_TABLE_SCHEMA || '_availability', OLD.id::text);
          RETURN NULL;
        END $$;

        CREATE TRIGGER appointments_availability_insert AFTER INSERT ON appointments
          FOR EACH ROW WHEN (NEW.${LIVE}) EXECUTE FUNCTION notify_availability();
        CREATE TRIGGER appointments_availability_update AFTER UPDATE ON appointments
          FOR EACH ROW WHEN ((OLD.${LIVE}) IS DISTINCT FROM (NEW.${LIVE})
            OR ((NEW.${LIVE}) AND (OLD.blocked_start, OLD.blocked_end, OLD.provider_id) IS DISTINCT FROM (NEW.blocked_start, NEW.blocked_end, NEW.provider_id)))
          EXECUTE FUNCTION notify_availability();
        CREATE TRIGGER appointments_availability_delete AFTER DELETE ON appointments
          FOR EACH ROW WHEN (OLD.${LIVE}) EXECUTE FUNCTION notify_availability();
        CREATE TRIGGER appointments_availability_truncate AFTER TRUNCATE ON appointments
          FOR EACH STATEMENT EXECUTE FUNCTION notify_availability();

        CREATE TRIGGER blocked_times_availability AFTER INSERT OR UPDATE OR DELETE ON blocked_times
          FOR EACH ROW EXECUTE FUNCTION notify_availability();
        CREATE TRIGGER blocked_times_availability_truncate AFTER TRUNCATE ON blocked_times
          FOR EACH STATEMENT EXECUTE FUNCTION notify_availability();

        -- Rules, soft deletes and blocked-time changes all move the provider's version.
        CREATE TRIGGER providers_availability AFTER UPDATE OR DELETE ON providers
          FOR EACH ROW EXECUTE FUNCTION notify_provider_availability();
        CREATE TRIGGER providers_availability_truncate AFTER TRUNCATE ON providers
          FOR EACH STATEMENT EXECUTE FUNCTION notify_availability();
      `);
    },
  },
  {
    // For the sweep that forgets expired booking Idempotency-Keys (IdempotencyKeySweepJob).
    name: '0003_idempotency_keys_created_at',
    up: async (knex) => {
      await knex.raw(`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`);
    },
  },
  {
    // A replay must be the first answer byte for byte: jsonb reorders keys, so the answer is kept as
    // the JSON text that was sent. Rows written before keep their jsonb (read when the text is null).
    name: '0004_idempotency_keys_response_text',
    up: async (knex) => {
      await knex.raw(`ALTER TABLE idempotency_keys ADD COLUMN response_text text, ALTER COLUMN response_body DROP NOT NULL`);
    },
  },
  {
    // Listing appointments by time alone (GET /appointments with from/to or status, no provider or
    // client: an operator's or a back office's view) read the whole history: a sort of every row, or a
    // walk of the client index. Ordered by (start_time, id), as the listing and its cursor are, such a
    // page reads only its rows. Built CONCURRENTLY, so bookings keep writing while it is built on a
    // large table; an invalid index left by a failed build is dropped first.
    name: '0005_appointments_start',
    transaction: false,
    up: async (knex) => {
      const { rows } = await knex.raw(`SELECT NOT i.indisvalid AS invalid FROM pg_index i WHERE i.indexrelid = to_regclass('appointments_start')`);
      if (rows[0]?.invalid) await knex.raw(`DROP INDEX CONCURRENTLY appointments_start`);
      await knex.raw(`CREATE INDEX CONCURRENTLY IF NOT EXISTS appointments_start ON appointments (start_time, id)`);
    },
  },
];
