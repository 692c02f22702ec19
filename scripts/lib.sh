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

# Makes sure a Redis answers at 127.0.0.1:6379 (the gateway's rate limits; their tests use the real one):
# when none does, installs redis-server if it is missing (apt-get) and starts one for this run,
# without persistence, which stop_local_redis stops.
STARTED_REDIS=""
REDIS_DIR="$ROOT/tmp/redis"
redis_answers() {
  node -e '
    const s = require("net").connect(6379, "127.0.0.1");
    s.setTimeout(2000, () => process.exit(1));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => process.exit(String(d).startsWith("+PONG") ? 0 : 1));
    s.on("error", () => process.exit(1));
  '
}
ensure_redis() {
  if redis_answers; then return; fi
  if ! command -v redis-server >/dev/null; then
    log "installing redis-server (apt-get)"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null \
      || die "could not install redis-server; start a Redis on 127.0.0.1:6379"
  fi
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:6379"
  redis-server --port 6379 --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" \
    --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no || die "redis-server did not start (see $REDIS_DIR/redis.log)"
  STARTED_REDIS=1
  for _ in $(seq 50); do redis_answers && return; sleep 0.2; done
  die "Redis did not answer within 10 s (see $REDIS_DIR/redis.log)"
}

# Stops the Redis ensure_redis started, if it started one.
stop_local_redis() {
  if [ -n "$STARTED_REDIS" ] && [ -f "$REDIS_DIR/redis.pid" ]; then kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true; fi
}

# Installs Debian packages whose commands are missing: ensure_debian_package <package> <command>...
# (apt-get update first; sudo when not root; no prompts). A test that needs the tool fails loudly without it.
ensure_debian_package() {
  local package="$1" missing=""; shift
  for command in "$@"; do command -v "$command" >/dev/null || missing=1; done
  [ -z "$missing" ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  command -v apt-get >/dev/null || die "$package is required ($*) and this is not a Debian machine: install it first"
  log "installing $package (apt-get)"
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null || die "apt-get install $package failed"
}
