// Runs once per jest run: makes sure the real Kafka broker and Postgres the integration tests use
// are there. Kafka is started here only when nobody started it (scripts/test.sh normally has).
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/booking_test';
  if (!process.env.KAFKA_BROKERS) {
    const script = path.join(__dirname, '..', 'infra', 'kafka', 'kafka.sh');
    execFileSync('bash', [script, 'start'], { stdio: 'inherit' });
    process.env.KAFKA_BROKERS = execFileSync('bash', [script, 'brokers']).toString().trim();
    globalThis.__BOOKING_STARTED_KAFKA__ = true;
  }
  // The tests that run the services through a transaction pooler need a PgBouncer (installed when missing).
  if (!process.env.PGBOUNCER_URL) {
    const script = path.join(__dirname, '..', 'scripts', 'pgbouncer.sh');
    const started = spawnSync('bash', [script, 'status']).status !== 0;
    if (started) execFileSync('bash', [script, 'start'], { stdio: 'inherit' });
    process.env.PGBOUNCER_URL = execFileSync('bash', [script, 'url']).toString().trim();
    globalThis.__BOOKING_STARTED_PGBOUNCER__ = started;
  }
  // TLS on the local Postgres with a CA of the tests' own (idempotent).
  process.env.PG_TLS_CA ??= execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'postgres-tls.sh')]).toString().trim();
};
