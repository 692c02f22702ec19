const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalTeardown() {
  if (globalThis.__BOOKING_STARTED_KAFKA__) {
    execFileSync('bash', [path.join(__dirname, '..', 'infra', 'kafka', 'kafka.sh'), 'stop'], { stdio: 'inherit' });
  }
};
