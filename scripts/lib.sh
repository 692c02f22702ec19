# Shared helpers for the project's scripts. Sourced, not run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NX_DAEMON=false NX_NO_CLOUD=true

log() { printf '[%s] %s\n' "${SCRIPT_NAME:-booking}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs npm packages when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  command -v node >/dev/null || die "Node.js 20+ is required (apt-get install -y nodejs npm)"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20+ is required, found $(node --version)"
  local stamp="$ROOT/node_modules/.booking-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    log "installing npm packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    touch "$stamp"
  fi
}

# Fails with a useful message if Postgres does not answer at DATABASE_URL.
ensure_postgres() {
  local url="$1"
  node -e '
    const { Client } = require("pg");
    const u = new URL(process.argv[1]); u.pathname = "/postgres";
    const c = new Client({ connectionString: u.toString(), connectionTimeoutMillis: 4000 });
    c.connect().then(() => c.end()).catch((e) => { console.error(e.message); process.exit(1); });
  ' "$url" 2>/dev/null || die "Postgres does not answer at ${url}. Start the local server (pg_ctlcluster \$(ls /etc/postgresql) main start) or set DATABASE_URL to one that runs."
}

# Starts a local broker unless KAFKA_BROKERS names a cluster, and exports KAFKA_BROKERS either way.
# Arguments: default client port, default data-dir name under tmp/ (each script keeps its own broker).
STARTED_KAFKA=""
start_local_kafka() {
  if [ -n "${KAFKA_BROKERS:-}" ]; then export KAFKA_BROKERS; return; fi
  export KAFKA_PORT="${KAFKA_PORT:-$1}" KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$(($1 + 1))}"
  export KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$ROOT/tmp/$2}"
  bash "$ROOT/infra/kafka/kafka.sh" start
  STARTED_KAFKA=1
  KAFKA_BROKERS="$(bash "$ROOT/infra/kafka/kafka.sh" brokers)"
  export KAFKA_BROKERS
}

# Stops the broker start_local_kafka started (KAFKA_BROKERS is set by then, so it is unset for the call).
stop_local_kafka() {
  if [ -n "$STARTED_KAFKA" ]; then env -u KAFKA_BROKERS bash "$ROOT/infra/kafka/kafka.sh" stop || true; fi
}
