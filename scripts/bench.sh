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

start_local_kafka 19292 kafka-bench
trap stop_local_kafka EXIT
# The saga section reports the broker's CPU per paid booking when it knows the broker's process.
if [ -n "$STARTED_KAFKA" ]; then BENCH_KAFKA_PID="$(tr -cd '0-9' <"$KAFKA_DATA_DIR/broker.pid")"; export BENCH_KAFKA_PID; fi

node --enable-source-maps -r ./tools/register-paths.js dist/bench/run.js "$@"
