const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalTeardown() {
  if (globalThis.__BOOKING_STARTED_KAFKA__) {
    // Without KAFKA_BROKERS (set by the setup for the tests), or kafka.sh takes the broker for an external one and stops nothing.
    const { KAFKA_BROKERS, ...env } = process.env;
    execFileSync('bash', [path.join(__dirname, '..', 'infra', 'kafka', 'kafka.sh'), 'stop'], { stdio: 'inherit', env });
  }
  if (globalThis.__BOOKING_STARTED_PGBOUNCER__) {
    execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'pgbouncer.sh'), 'stop'], { stdio: 'inherit' });
  }
};
