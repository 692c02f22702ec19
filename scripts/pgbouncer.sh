#!/usr/bin/env bash
# A local PgBouncer in transaction mode in front of the local Postgres, for the tests that run the
# services through a transaction pooler (DATABASE_POOLER=transaction). Installs the Debian package when
# missing. Clients log in with their own role and password (SCRAM, checked against pg_shadow through
# auth_query), so every service can connect as its own role; any database name is passed through.
#   bash scripts/pgbouncer.sh start|stop|status|url
# PGBOUNCER_PORT (6439), PGBOUNCER_DIR (/tmp/booking-pgbouncer-<port>), POSTGRES_HOST/POSTGRES_PORT
# (127.0.0.1:5432; the server must let the auth user `postgres` in without a password, as the local
# one does).
set -euo pipefail
SCRIPT_NAME=pgbouncer
source "$(dirname "$0")/lib.sh"

port="${PGBOUNCER_PORT:-6439}"
dir="${PGBOUNCER_DIR:-/tmp/booking-pgbouncer-$port}"
pidfile="$dir/pgbouncer.pid"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

ensure_installed() {
  if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then return; fi
  [ "$(id -u)" = 0 ] || die "PgBouncer is missing: apt-get install -y pgbouncer (as root)"
  log "installing pgbouncer (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null || die "apt-get install pgbouncer failed"
}

start() {
  if running; then log "already running on 127.0.0.1:$port"; return; fi
  ensure_installed
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=${POSTGRES_HOST:-127.0.0.1} port=${POSTGRES_PORT:-5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
pool_mode = transaction
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
auth_user = postgres
auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename = \$1
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $pidfile
INI
  printf '"postgres" ""\n' >"$dir/userlist.txt"
  local user=()
  # PgBouncer refuses to run as root.
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; user=(-u postgres); fi
  "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d "${user[@]}" "$dir/pgbouncer.ini" || die "pgbouncer did not start (see $dir/pgbouncer.log)"
  local deadline=$((SECONDS + 20))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "pgbouncer does not listen on 127.0.0.1:$port (see $dir/pgbouncer.log)"
    sleep 0.2
  done
  log "running on 127.0.0.1:$port (transaction mode)"
}

stop() {
  if running; then
    kill "$(cat "$pidfile")"
    log "stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 1; fi ;;
  url) echo "postgres://127.0.0.1:$port" ;;
  *) die "usage: $0 start|stop|status|url" ;;
esac
