#!/usr/bin/env bash
# Runs the benchmarks (`npm run bench`, or `npm run bench -- --quick` for a run under two minutes):
# installs what is missing, builds, starts a private Kafka broker, measures, prints one table and
# writes it to bench/results/. Loads stay on loopback and are bounded in time.
set -euo pipefail
SCRIPT_NAME=bench
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_node_modules
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/booking}"
ensure_postgres "$DATABASE_URL"
command -v pgbench >/dev/null || die "pgbench is required for the raw Postgres anchor (apt-get install -y postgresql-client)"

log "building"
npx tsc -p tsconfig.build.json

started_kafka=""
if [ -z "${KAFKA_BROKERS:-}" ]; then
  export KAFKA_PORT="${KAFKA_PORT:-19292}" KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19293}"
  export KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$ROOT/tmp/kafka-bench}"
  bash infra/kafka/kafka.sh start
  started_kafka=1
  KAFKA_BROKERS="$(bash infra/kafka/kafka.sh brokers)"
  export KAFKA_BROKERS
fi
cleanup() { [ -n "$started_kafka" ] && env -u KAFKA_BROKERS bash infra/kafka/kafka.sh stop || true; }
trap cleanup EXIT

node --enable-source-maps -r ./tools/register-paths.js dist/bench/run.js "$@"
