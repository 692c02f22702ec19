#!/usr/bin/env bash
# Runs every test (unit, integration, e2e) against a real Kafka broker and the real Postgres.
# Installs what is missing, starts Kafka once for the run (unless KAFKA_BROKERS points at a cluster)
# and stops what it started. Extra arguments go to jest.
set -euo pipefail
SCRIPT_NAME=test
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_node_modules
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/booking_test}"
ensure_postgres "$DATABASE_URL"

started_kafka=""
if [ -z "${KAFKA_BROKERS:-}" ]; then
  export KAFKA_PORT="${KAFKA_PORT:-19192}" KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19193}"
  export KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$ROOT/tmp/kafka-test}"
  bash infra/kafka/kafka.sh start
  started_kafka=1
  KAFKA_BROKERS="$(bash infra/kafka/kafka.sh brokers)"
  export KAFKA_BROKERS
fi
cleanup() { [ -n "$started_kafka" ] && env -u KAFKA_BROKERS bash infra/kafka/kafka.sh stop || true; }
trap cleanup EXIT

log "type-checking"
npx tsc -p tsconfig.json
log "linting (module boundaries included)"
npx nx show projects >/dev/null
npx eslint --max-warnings=0 libs services test bench
log "building the services the end-to-end tests run as processes"
npx tsc -p tsconfig.build.json
log "running jest (Kafka at $KAFKA_BROKERS, Postgres at $DATABASE_URL)"
npx jest --ci "$@"
