-- One service's two Postgres roles and its schema, created or brought up to date (run it again at will).
--   <schema>_owner  owns the schema and everything in it: the `migrate` command connects as it.
--   <schema>_app    the running service: reads and writes the schema's tables, owns nothing, may not
--                   change the schema (no DDL) and cannot see any other schema.
-- Run as a role that may create roles (the superuser, or an admin with CREATEROLE), connected to the
-- platform's database; create-roles.sh runs it for every service:
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -v schema=scheduling \
--        -v owner_password=... -v app_password=... -f service-roles.sql
-- Optional: -v prefix=staging_ (role names get it in front), -v statement_timeout=30000,
-- -v lock_timeout=10000, -v idle_in_transaction_session_timeout=60000 (milliseconds; the app role's
-- own defaults, which is what its pooled connections run with behind a transaction pooler such as
-- PgBouncer, where no startup settings reach the server).
SET client_min_messages = warning;
\if :{?prefix} \else \set prefix '' \endif
\if :{?statement_timeout} \else \set statement_timeout 30000 \endif
\if :{?lock_timeout} \else \set lock_timeout 10000 \endif
\if :{?idle_in_transaction_session_timeout} \else \set idle_in_transaction_session_timeout 60000 \endif
\set owner :prefix :schema _owner
\set app :prefix :schema _app
SELECT current_database() AS database \gset

SELECT format('CREATE ROLE %I', :'owner') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password') \gexec
ALTER ROLE :"owner" SET search_path = :"schema", public;
ALTER ROLE :"app" SET search_path = :"schema", public;
ALTER ROLE :"app" SET statement_timeout = :statement_timeout;
ALTER ROLE :"app" SET lock_timeout = :lock_timeout;
ALTER ROLE :"app" SET idle_in_transaction_session_timeout = :idle_in_transaction_session_timeout;

-- The database: connect, nothing else (no schemas of their own, no temporary tables). PUBLIC loses
-- its default CONNECT and TEMPORARY, and nobody but the admin may create in `public`.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"owner", :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- The exclusion constraint's operator classes; only an admin may create an extension.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The schema, owned by the owner role: also an existing one, with what is in it (a database that
-- was migrated as another role before).
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner";
ALTER SCHEMA :"schema" OWNER TO :"owner";
SELECT format('ALTER TABLE %I.%I OWNER TO %I', schemaname, tablename, :'owner') FROM pg_tables WHERE schemaname = :'schema' \gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'owner')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :'schema' \gexec

-- The app role: use the schema and read and write its rows (the tables the owner makes later too).
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"schema" TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT USAGE, SELECT ON SEQUENCES TO :"app";
-- Postgres 17 lets a non-owner VACUUM (the outbox relay's OUTBOX_VACUUM_EVERY_ROWS); before it only
-- the owner may, and the app role's VACUUM skips the table: leave the outbox to autovacuum there.
SELECT current_setting('server_version_num')::int >= 170000 AS has_maintain \gset
\if :has_maintain
GRANT MAINTAIN ON ALL TABLES IN SCHEMA :"schema" TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT MAINTAIN ON TABLES TO :"app";
\endif
