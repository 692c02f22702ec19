#!/usr/bin/env bash
# Runs the whole platform on this machine: installs what is missing, starts a local Kafka broker,
# builds, migrates (each service migrates its own schema at start-up) and starts all five services.
# Ctrl-C (SIGINT), or SIGTERM or SIGINT sent to this script or to `npm start` (package.json execs this
# script, so npm's signal reaches it rather than an intermediate shell), stops the services and the broker.
set -euo pipefail
SCRIPT_NAME=start
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_node_modules
# The quick start is a development run: services fill in documented development defaults (the gateway's
# development JWT secret, Twilio placeholders) that they refuse in production.
export NODE_ENV="${NODE_ENV:-development}"
# No load balancer to tell: a service stops serving as soon as it is told to stop.
export SHUTDOWN_DRAIN_MS="${SHUTDOWN_DRAIN_MS:-0}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/booking}"
ensure_postgres "$DATABASE_URL"

log "building"
npx tsc -p tsconfig.build.json

pids=()
stopping=""
stop_all() {
  [ -n "$stopping" ] && return
  stopping=1
  log "stopping services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # A signal arriving meanwhile (Ctrl-C brings the terminal's SIGINT and npm's forwarded one) cuts a
  # `wait` short: wait again until each service is gone.
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do wait "$pid" 2>/dev/null || true; done
  done
  stop_local_kafka
  log "stopped"
}
# A later signal while stopping is ignored: exiting then would leave services and the broker behind.
# Further signals are ignored from the first one on (Ctrl-C brings the terminal's SIGINT and npm's
# forwarded one): a trap running again inside stop_all trips a bash bug ("pop_var_context: head of
# shell_variables not a function context") that aborts the stop half-way, leaving the broker running.
on_signal() {
  trap '' INT TERM
  [ -n "$stopping" ] && return
  stop_all
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap stop_all EXIT

start_local_kafka 19092 kafka

# The development inbox (tools/dev-inbox): catches the notification service's mail, SMS and push on this
# machine and lists them on a page. Development only (DEV_INBOX=false, or NODE_ENV=production, runs none).
inbox_port="${DEV_INBOX_PORT:-3005}"
if [ "${DEV_INBOX:-true}" = "true" ] && [ "$NODE_ENV" != "production" ]; then
  DEV_INBOX_PORT="$inbox_port" DEV_INBOX_SMTP_PORT="${DEV_INBOX_SMTP_PORT:-1025}" \
    node -r ./tools/register-paths.js dist/tools/dev-inbox/main.js &
  pids+=("$!")
  inbox_pid="$!"
  deadline=$((SECONDS + 30))
  until curl -fsS "http://127.0.0.1:$inbox_port/health" >/dev/null 2>&1; do
    kill -0 "$inbox_pid" 2>/dev/null || die "the development inbox did not start (ports taken? set DEV_INBOX_PORT / DEV_INBOX_SMTP_PORT, or DEV_INBOX=false)"
    [ "$SECONDS" -lt "$deadline" ] || die "the development inbox did not answer on port $inbox_port within 30 s"
    sleep 0.2
  done
  # Notification sends there unless told otherwise.
  export SMTP_URL="${SMTP_URL:-smtp://127.0.0.1:${DEV_INBOX_SMTP_PORT:-1025}}"
  export TWILIO_API_BASE_URL="${TWILIO_API_BASE_URL:-http://127.0.0.1:$inbox_port}"
  export PUSH_ALLOW_HTTP="${PUSH_ALLOW_HTTP:-true}"
  DEV_INBOX_URL="http://127.0.0.1:$inbox_port"
else
  DEV_INBOX_URL=""
fi

declare -A ports=([scheduling]="${SCHEDULING_PORT:-3001}" [payment]="${PAYMENT_PORT:-3002}"
  [notification]="${NOTIFICATION_PORT:-3003}" [reminder]="${REMINDER_PORT:-3004}" [api-gateway]="${GATEWAY_PORT:-3000}")
# Small young generation and a capped old space keep each service near 100-150 MB RSS under load.
export NODE_OPTIONS="${NODE_OPTIONS:---max-semi-space-size=2 --max-old-space-size=96}"
export SCHEDULING_URL="${SCHEDULING_URL:-http://127.0.0.1:${ports[scheduling]}}"

declare -A service_pids
for service in scheduling payment notification reminder api-gateway; do
  PORT="${ports[$service]}" node --enable-source-maps -r ./tools/register-paths.js \
    "dist/services/$service/src/main.js" &
  pids+=("$!")
  service_pids[$service]="$!"
done

# Each service's readiness, in turn (inline: a stop trap running inside a function is where the bash
# bug on_signal works around showed up).
for service in scheduling payment notification reminder api-gateway; do
  port="${ports[$service]}"
  deadline=$((SECONDS + 180))
  until curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do
    kill -0 "${service_pids[$service]}" 2>/dev/null || die "$service exited during start-up (see its log lines above)"
    [ "$SECONDS" -lt "$deadline" ] || die "$service did not become ready on port $port within 180 s"
    sleep 0.5
  done
  log "$service ready on http://127.0.0.1:$port"
done

if token="$(PORT="${ports[api-gateway]}" node -r ./tools/register-paths.js dist/services/api-gateway/src/dev-token.js 2>/dev/null)"; then
  log "development admin token (8 h): $token"
  log "  try: curl -H \"Authorization: Bearer <token>\" http://127.0.0.1:${ports[api-gateway]}/v1/providers"
else
  log "gateway tokens: sign them with your JWT_* settings (services/api-gateway/README.md, \"A token for development\")"
fi
log "platform is up. API gateway: http://127.0.0.1:${ports[api-gateway]}/v1  (docs: http://127.0.0.1:${ports[api-gateway]}/docs)"
if [ -n "$DEV_INBOX_URL" ]; then
  log "development inbox (every mail, SMS and push sent): $DEV_INBOX_URL  (push endpoints: $DEV_INBOX_URL/push/<name>)"
fi
log "press Ctrl-C to stop"
wait -n "${pids[@]}" || true
log "a service exited; stopping the rest"
