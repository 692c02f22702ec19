#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft, combined broker+controller)
# for development and tests -- no Docker needed, only Java 17+ and Maven.
#
#   bash infra/kafka/kafka.sh fetch|start|stop|status|reset|brokers|logs
#
# See infra/kafka/README.md for the environment variables.
set -euo pipefail

readonly KAFKA_VERSION=3.9.1
readonly DEPENDENCY_PLUGIN_VERSION=3.8.1   # keep in sync with pom.xml

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
readonly SCRIPT_DIR REPO_ROOT
readonly POM="$SCRIPT_DIR/pom.xml"

# Absolute path without trailing slashes (the broker runs with another cwd,
# and the data dir path is how we recognise our own broker process).
abs_path() {
  local p=$1
  case "$p" in /*) ;; *) p="$PWD/$p" ;; esac
  while [[ "$p" == */ && "$p" != / ]]; do p=${p%/}; done
  printf '%s\n' "$p"
}

CACHE_DIR=$(abs_path "${KAFKA_CACHE_DIR:-$HOME/.cache/booking-platform/kafka-$KAFKA_VERSION}")
readonly CACHE_DIR
readonly LIB_DIR="$CACHE_DIR/lib"
readonly FETCH_MARKER="$CACHE_DIR/.complete"
readonly CDS_DIR="$CACHE_DIR/cds"

readonly PORT="${KAFKA_PORT:-19092}"
readonly CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
readonly HOST=127.0.0.1
readonly HEAP="${KAFKA_HEAP:-384m}"
readonly START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
# One node of a cluster (set by `cluster start` for each node; a lone broker is node 1 of 1).
readonly NODE_ID="${KAFKA_NODE_ID:-1}"
readonly QUORUM_VOTERS="${KAFKA_QUORUM_VOTERS:-}"
readonly REPLICATION="${KAFKA_REPLICATION:-1}"
readonly LOG_NAME="${KAFKA_LOG_NAME:-kafka}"
readonly STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"

DATA_DIR=$(abs_path "${KAFKA_DATA_DIR:-$REPO_ROOT/tmp/kafka}")
readonly DATA_DIR
readonly PID_FILE="$DATA_DIR/broker.pid"
readonly BROKER_LOG="$DATA_DIR/broker.log"   # stdout/stderr of the JVM (WARN+)
readonly SERVER_LOG="$DATA_DIR/server.log"   # full INFO log written by log4j
readonly SERVER_PROPS="$DATA_DIR/server.properties"
readonly CLUSTER_ID_FILE="$DATA_DIR/cluster.id"
readonly CDS_PENDING="$DATA_DIR/cds.pending"

# Security of the client listener: plaintext (default), or sasl_ssl (SASL over TLS, SCRAM and PLAIN).
readonly SECURITY="${KAFKA_SECURITY:-plaintext}"
readonly CERT_DIR="${KAFKA_CERT_DIR:-$DATA_DIR/certs}"
readonly MTLS_PORT="${KAFKA_MTLS_PORT:-}"
readonly SASL_USER="${KAFKA_SASL_USERNAME:-booking}"
# Development only: production services refuse this password (PUBLISHED_SECRETS).
if [[ -z "${KAFKA_SASL_PASSWORD:-}" && -n "${KAFKA_SASL_PASSWORD_FILE:-}" ]]; then
  KAFKA_SASL_PASSWORD=$(cat "$KAFKA_SASL_PASSWORD_FILE") || { printf '[kafka] ERROR: KAFKA_SASL_PASSWORD_FILE cannot be read\n' >&2; exit 1; }
fi
readonly SASL_PASS="${KAFKA_SASL_PASSWORD:-booking-kafka-dev-password}"
readonly SECURITY_MARKER="$DATA_DIR/security.sha256"

if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
  JAVA="${JAVA_HOME}/bin/java"
else
  JAVA=java
fi
readonly JAVA

# ---------------------------------------------------------------- helpers --

log() { printf '[%s] %s\n' "$LOG_NAME" "$*"; }
err() { printf '[%s] ERROR: %s\n' "$LOG_NAME" "$*" >&2; }
die() { err "$*"; exit 1; }

# Current time in seconds (with fractions when the shell can do it).
now() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    printf '%s\n' "${EPOCHREALTIME/,/.}"
  else
    date +%s
  fi
}
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  cat <<EOF
Usage: bash infra/kafka/kafka.sh <command>

Commands:
  fetch     download the Kafka $KAFKA_VERSION jars into the machine cache (once)
  start     start the local broker (idempotent) and wait until it answers
  stop      stop the local broker (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)
  status    print whether the broker is running (exit 0) or not (exit 1)
  reset     stop the broker and delete its data dir
  brokers   print the bootstrap address to use
  client-env  print the variables a service needs for this broker (sasl_ssl: TLS and SASL)
  logs      print the last lines of the broker log
  cluster start|stop|status|reset|brokers|client-env|pids|logs
            a cluster of three brokers (KRaft, each also a controller) on one machine:
            replication factor 3 and min.insync.replicas 2 by default

Environment:
  KAFKA_BROKERS          use this external cluster; start/stop/reset do nothing
  KAFKA_PORT             broker port              (default 19092)
  KAFKA_CONTROLLER_PORT  KRaft controller port    (default 19093)
  KAFKA_DATA_DIR         data dir                 (default <repo>/tmp/kafka)
  KAFKA_CACHE_DIR        jar cache                (default ~/.cache/booking-platform/kafka-$KAFKA_VERSION)
  KAFKA_HEAP             max heap                 (default 384m)
  KAFKA_START_TIMEOUT    seconds to wait on start (default 90)
  KAFKA_STOP_TIMEOUT     seconds before SIGKILL   (default 20)
  KAFKA_JAVA_OPTS        extra JVM flags for the broker
  KAFKA_CDS              0 = do not use/create the class-data-sharing archive (default 1)
  KAFKA_SECURITY         plaintext (default) or sasl_ssl: SASL (SCRAM-SHA-256/512, PLAIN) over TLS
  KAFKA_CERT_DIR         sasl_ssl: certificates (default <data dir>/certs, made by make-test-certs.sh)
  KAFKA_SASL_USERNAME    sasl_ssl: the clients' user      (default booking)
  KAFKA_SASL_PASSWORD    sasl_ssl: its password           (default: the development one)
  KAFKA_MTLS_PORT        sasl_ssl: also a TLS listener that requires a client certificate
  KAFKA_CLUSTER_PORT     cluster: first broker port (default 19592; then +1, +2)
  KAFKA_CLUSTER_CONTROLLER_PORT  cluster: first controller port (default first broker port + 3)
  KAFKA_CLUSTER_DATA_DIR cluster: data dir, one node-N dir per broker (default <repo>/tmp/kafka-cluster)
  KAFKA_CLUSTER_HEAP     cluster: max heap of each broker (default 256m)
EOF
}

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 \
    || die "java not found. Java 17+ is required: apt-get install -y openjdk-17-jre-headless"
  local version major
  version=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')
  major=${version%%.*}
  [[ "$major" == 1 ]] && major=$(printf '%s' "$version" | cut -d. -f2)  # 1.8.0_x
  if [[ "$major" =~ ^[0-9]+$ ]] && (( major < 17 )); then
    die "found Java $version at $(command -v "$JAVA"). Java 17+ is required: apt-get install -y openjdk-17-jre-headless"
  fi
}

pom_hash() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$POM" | awk '{ print $1 }'
  else
    shasum -a 256 "$POM" | awk '{ print $1 }'
  fi
}

fetched() {
  [[ -f "$FETCH_MARKER" && -d "$LIB_DIR" ]] \
    && [[ "$(cat "$FETCH_MARKER")" == "$(pom_hash)" ]]
}

# Run the rest of the calling function under an exclusive lock (if flock exists).
lock() {
  local file=$1 fd=$2
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$(dirname "$file")"
  eval "exec $fd>\"\$file\""
  flock -w 300 "$fd" || die "could not acquire lock $file"
}

# Is anything listening on 127.0.0.1:$1 ?
port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Best effort "name (pid N)" of whatever listens on port $1.
port_owner() {
  local port=$1 out=""
  if command -v ss >/dev/null 2>&1; then
    out=$(ss -Hltnp "sport = :$port" 2>/dev/null \
      | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n 1 \
      | sed -E 's/users:\(\("([^"]*)",pid=([0-9]*)/\1 (pid \2)/' || true)
  fi
  if [[ -z "$out" ]] && command -v lsof >/dev/null 2>&1; then
    out=$(lsof -nP -iTCP:"$port" -sTCP:LISTEN 2>/dev/null \
      | awk 'NR == 2 { print $1 " (pid " $2 ")" }' || true)
  fi
  printf '%s\n' "${out:-an unknown process}"
}

port_taken() {
  local port=$1
  port_open "$port" && return 0
  command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]] && return 0
  return 1
}

# Is pid $1 a broker started by this script for this data dir?
is_our_broker() {
  local pid=$1 args
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  args=$(ps -ww -o args= -p "$pid" 2>/dev/null) || return 1
  [[ "$args" == *kafka.Kafka* && "$args" == *"$SERVER_PROPS"* ]]
}

# Is pid $1 alive (and not a zombie)?
alive() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n "$stat" && "$stat" != Z* ]]
}

# Prints the pid of our running broker, or fails.
our_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid=$(tr -cd '0-9' <"$PID_FILE")
  is_our_broker "$pid" || return 1
  printf '%s\n' "$pid"
}

show_logs() {
  local lines=${1:-30} f
  for f in "$BROKER_LOG" "$SERVER_LOG"; do
    if [[ -s "$f" ]]; then
      printf -- '----- last %s lines of %s -----\n' "$lines" "$f" >&2
      tail -n "$lines" "$f" >&2
    fi
  done
}

# SIGTERM, wait up to $2 seconds, then SIGKILL. Only ever called on our pid.
# Returns 0 on a clean exit, 1 if SIGKILL was needed.
terminate() {
  local pid=$1 timeout=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for (( i = 0; i < timeout * 10; i++ )); do
    is_our_broker "$pid" || return 0
    sleep 0.1
  done
  is_our_broker "$pid" || return 0
  err "broker (pid $pid) did not exit within ${timeout}s after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for (( i = 0; i < 50; i++ )); do
    is_our_broker "$pid" || break
    sleep 0.1
  done
  return 1
}

# ------------------------------------------- class-data sharing (AppCDS) --
# The first broker run on a machine records the classes it loads into a
# dynamic CDS archive (written by the JVM when it exits after `stop`); later
# starts map it, which makes the broker start ~1-2 s faster. The archive is
# per JVM build (a mismatching archive would just be ignored by the JVM).

cds_enabled() { [[ "${KAFKA_CDS:-1}" != 0 ]]; }

cds_archive() {
  local id
  if command -v sha256sum >/dev/null 2>&1; then
    id=$("$JAVA" -version 2>&1 | sha256sum | cut -c1-12)
  else
    id=$("$JAVA" -version 2>&1 | shasum -a 256 | cut -c1-12)
  fi
  printf '%s/kafka-%s.jsa\n' "$CDS_DIR" "$id"
}

# Sets CDS_FLAGS for the broker JVM.
cds_flags() {
  CDS_FLAGS=()
  cds_enabled || return 0
  local archive
  archive=$(cds_archive)
  if [[ -s "$archive" ]]; then
    CDS_FLAGS=("-XX:SharedArchiveFile=$archive" -Xshare:auto)
  else
    mkdir -p "$CDS_DIR"
    local tmp="$archive.tmp.$$"
    printf '%s\n%s\n' "$tmp" "$archive" >"$CDS_PENDING"
    CDS_FLAGS=("-XX:ArchiveClassesAtExit=$tmp" -Xlog:cds=error -Xlog:cds+dynamic=error)
  fi
}

# After the broker exited: promote (clean exit) or drop the archive it dumped.
cds_finish() {
  local clean=$1 tmp archive
  [[ -f "$CDS_PENDING" ]] || return 0
  { read -r tmp; read -r archive; } <"$CDS_PENDING" || true
  rm -f "$CDS_PENDING"
  [[ -n "${tmp:-}" && -n "${archive:-}" ]] || return 0
  if [[ "$clean" == 1 && -s "$tmp" ]] \
    && ( cd "$CDS_DIR" && "$JAVA" "-XX:SharedArchiveFile=$tmp" -Xshare:on -XX:ErrorFile=/dev/null \
           -cp "$LIB_DIR/*" -version ) >/dev/null 2>&1; then
    mv -f "$tmp" "$archive"
    log "saved class-data-sharing archive $archive (faster next start)"
  else
    rm -f "$tmp"
  fi
}

external() { [[ -n "${KAFKA_BROKERS:-}" ]]; }

# --------------------------------------------------------------- commands --

cmd_fetch() {
  if fetched; then
    return 0
  fi
  require_java
  command -v mvn >/dev/null 2>&1 \
    || die "mvn not found; it is needed once to fetch Kafka from Maven Central: apt-get install -y maven"

  lock "$CACHE_DIR/.lock" 8
  fetched && return 0   # somebody else fetched while we waited for the lock

  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIB_DIR (once per machine) ..."
  local t0 tmp mvn_log rc=0
  t0=$(now)
  tmp="$CACHE_DIR/lib.tmp.$$"
  mvn_log="$CACHE_DIR/fetch.log"
  rm -rf "$tmp"
  # Fully qualified goal (same version as pinned in pom.xml): with a plain
  # `dependency:` prefix a network problem shows up as a confusing
  # "No plugin found for prefix" instead of the real error.
  mvn -B -q -Dstyle.color=never -f "$POM" \
    "org.apache.maven.plugins:maven-dependency-plugin:$DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1 || rc=$?
  if (( rc != 0 )) || [[ ! -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    err "could not fetch Kafka from Maven Central (mvn exit code $rc). Last lines of Maven output ($mvn_log):"
    tail -n 25 "$mvn_log" | sed 's/\x1b\[[0-9;]*m//g' >&2 || true
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$LIB_DIR" "$CDS_DIR"
  mv "$tmp" "$LIB_DIR"
  pom_hash >"$FETCH_MARKER"
  log "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l | tr -d ' ') jars ($(du -sh "$LIB_DIR" | cut -f1)) in $(elapsed_since "$t0")s"
}

sasl_ssl() { [[ "$SECURITY" == sasl_ssl ]]; }

# The broker's own SCRAM user (inter-broker), with a password made once per data dir.
broker_password() {
  local file="$DATA_DIR/broker.password"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$DATA_DIR"
    (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file")
  fi
  cat "$file"
}

# Listener settings: PLAINTEXT, or SASL_SSL (+ an mTLS listener when KAFKA_MTLS_PORT is set).
listener_props() {
  if ! sasl_ssl; then
    cat <<EOF
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
    return 0
  fi
  local listeners="SASL_SSL://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT"
  local advertised="SASL_SSL://localhost:$PORT"
  if [[ -n "$MTLS_PORT" ]]; then
    listeners+=",MTLS://$HOST:$MTLS_PORT"
    advertised+=",MTLS://localhost:$MTLS_PORT"
  fi
  local broker_pw store_pw
  broker_pw=$(broker_password)
  store_pw=$(cat "$CERT_DIR/store.password")
  cat <<EOF
# Clients: SASL over TLS, advertised as localhost (the name in the broker's certificate).
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$broker_pw";
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="$broker_pw" user_broker="$broker_pw" user_$SASL_USER="$SASL_PASS";
ssl.keystore.type=PKCS12
ssl.keystore.location=$CERT_DIR/broker.p12
ssl.keystore.password=$store_pw
ssl.truststore.type=PKCS12
ssl.truststore.location=$CERT_DIR/truststore.p12
ssl.truststore.password=$store_pw
ssl.endpoint.identification.algorithm=https
listener.name.mtls.ssl.client.auth=required
EOF
}

write_configs() {
  mkdir -p "$DATA_DIR/logs"
  if sasl_ssl; then
    bash "$SCRIPT_DIR/make-test-certs.sh" "$CERT_DIR" || die "could not make the test certificates in $CERT_DIR"
  fi
  # Never let git pick up broker data, whatever the repo's .gitignore says.
  printf '*\n' >"$DATA_DIR/.gitignore"

  cat >"$DATA_DIR/log4j.properties" <<EOF
# Generated by infra/kafka/kafka.sh -- rewritten on every start.
# INFO and above -> $SERVER_LOG ; WARN and above -> console (broker.log)
log4j.rootLogger=INFO, file, stdout

log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.Threshold=WARN
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$SERVER_LOG
log4j.appender.file.Append=true
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n

# Chatty loggers
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
EOF

  cat >"$DATA_DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF

  cat >"$SERVER_PROPS" <<EOF
# Generated by infra/kafka/kafka.sh -- rewritten on every start.
# Single-node KRaft (combined broker + controller) for local dev and tests.

process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=${QUORUM_VOTERS:-$NODE_ID@$HOST:$CONTROLLER_PORT}

$(listener_props)

log.dirs=$DATA_DIR/logs

# Topics: explicit creation only, 3 partitions by default; no replication on a lone broker, a
# replication factor of 3 with min.insync.replicas 2 in a cluster of three.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=$REPLICATION
min.insync.replicas=$(( REPLICATION > 1 ? 2 : 1 ))
offsets.topic.replication.factor=$REPLICATION
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$(( REPLICATION > 1 ? 2 : 1 ))
# Fewer internal partitions than the default 50: the first consumer group /
# transaction creates its internal topic much faster.
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
# Consumer groups start consuming immediately (default waits 3 s).
group.initial.rebalance.delay.ms=0

# Small segments / short retention, fine for dev and test data.
log.segment.bytes=16777216
log.retention.hours=24
log.retention.bytes=268435456
log.retention.check.interval.ms=60000
log.index.size.max.bytes=1048576
offsets.topic.segment.bytes=16777216
transaction.state.log.segment.bytes=16777216
metadata.log.segment.bytes=8388608
metadata.max.retention.bytes=67108864

# Small footprint: fewer threads, small log-cleaner buffer (default 128 MB heap).
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
queued.max.requests=100

# Faster broker registration / unfencing on start. The short session timeout
# matters after a crash / kill -9: the restarted broker can only register
# once the controller has expired its previous incarnation (default 9 s).
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
EOF
}

java_opts() {
  JAVA_OPTS=(
    -Xms128m "-Xmx$HEAP"
    -XX:+UseSerialGC
    -XX:TieredStopAtLevel=1
    -XX:ReservedCodeCacheSize=64m
    -XX:MaxMetaspaceSize=128m
    -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Djava.net.preferIPv4Stack=true
    "-Dkafka.logs.dir=$DATA_DIR"
  )
  if [[ -n "${KAFKA_JAVA_OPTS:-}" ]]; then
    local extra
    read -r -a extra <<<"$KAFKA_JAVA_OPTS"
    JAVA_OPTS+=("${extra[@]}")
  fi
}

# Run a Kafka command line tool (quietly logging to stderr).
kafka_tool() {
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Djava.awt.headless=true "-Dlog4j.configuration=file:$DATA_DIR/tools-log4j.properties" \
    -cp "$LIB_DIR/*" "$@"
}

# What the storage was formatted for: SCRAM users exist only if they were added at format time.
security_id() {
  local id="plaintext"
  sasl_ssl && id="sasl_ssl:$SASL_USER:$SASL_PASS"
  if command -v sha256sum >/dev/null 2>&1; then
    printf '%s' "$id" | sha256sum | cut -c1-64
  else
    printf '%s' "$id" | shasum -a 256 | cut -c1-64
  fi
}

format_storage() {
  if [[ -f "$DATA_DIR/logs/meta.properties" ]]; then
    if [[ "$(cat "$SECURITY_MARKER" 2>/dev/null || security_id)" != "$(security_id)" ]]; then
      die "the storage in $DATA_DIR was formatted with another KAFKA_SECURITY or other SASL credentials (SCRAM users are added when it is formatted): run 'reset' first, or use another KAFKA_DATA_DIR"
    fi
    return 0  # already formatted; skip a ~2 s JVM start
  fi
  local scram=()
  if sasl_ssl; then
    local broker_pw
    broker_pw=$(broker_password)
    scram=(--add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASS]"
           --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASS]"
           --add-scram "SCRAM-SHA-512=[name=broker,password=$broker_pw]")
  fi
  local cluster_id
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cluster_id=$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")
  else
    cluster_id=$(kafka_tool kafka.tools.StorageTool random-uuid | tr -d '[:space:]')
    [[ -n "$cluster_id" ]] || die "kafka.tools.StorageTool random-uuid returned nothing"
    printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  log "formatting storage in $DATA_DIR/logs (cluster id $cluster_id)"
  local out
  if ! out=$(kafka_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$SERVER_PROPS" --ignore-formatted ${scram[@]+"${scram[@]}"} 2>&1); then
    err "could not format Kafka storage in $DATA_DIR/logs:"
    printf '%s\n' "$out" >&2
    exit 1
  fi
  security_id >"$SECURITY_MARKER"
}

cmd_start() {
  if external; then
    log "KAFKA_BROKERS is set ($KAFKA_BROKERS): using that external Kafka cluster, not starting a local broker"
    return 0
  fi
  local t0
  t0=$(now)
  cmd_fetch
  lock "$DATA_DIR/.lock" 9

  local pid
  if pid=$(our_pid); then
    if port_open "$PORT"; then
      log "Kafka broker already running (pid $pid) at $HOST:$PORT"
      return 0
    fi
    log "Kafka broker (pid $pid) is running but not answering yet; waiting for it"
    wait_ready "$pid" "$t0"
    return 0
  fi
  rm -f "$PID_FILE"
  cds_finish 0   # leftover of a broker that died without `stop`

  local p
  for p in "$PORT" "$CONTROLLER_PORT" $MTLS_PORT; do
    if port_taken "$p"; then
      die "port $p is taken by $(port_owner "$p"). Stop it, or choose other ports with KAFKA_PORT / KAFKA_CONTROLLER_PORT (or point KAFKA_BROKERS at an existing cluster)."
    fi
  done

  write_configs
  format_storage

  # Keep the previous run's logs for post-mortems; start this run's fresh.
  local f
  for f in "$BROKER_LOG" "$SERVER_LOG"; do
    [[ -f "$f" ]] && mv -f "$f" "$f.prev"
  done
  : >"$BROKER_LOG"

  local JAVA_OPTS CDS_FLAGS
  java_opts
  cds_flags
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  (
    # Do not let the broker inherit our lock file descriptors.
    exec 8>&- 9>&-
    cd "$DATA_DIR"
    exec ${launcher[@]+"${launcher[@]}"} nohup "$JAVA" "${JAVA_OPTS[@]}" \
      ${CDS_FLAGS[@]+"${CDS_FLAGS[@]}"} \
      "-Dlog4j.configuration=file:$DATA_DIR/log4j.properties" \
      -cp "$LIB_DIR/*" kafka.Kafka "$SERVER_PROPS" \
      </dev/null >>"$BROKER_LOG" 2>&1
  ) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  log "starting Kafka $KAFKA_VERSION broker (pid $pid), data in $DATA_DIR"
  wait_ready "$pid" "$t0"
}

# Wait until broker $1 logs "Kafka Server started" and accepts connections.
wait_ready() {
  local pid=$1 t0=$2 deadline
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  while (( $(date +%s) < deadline )); do
    # `alive`, not `is_our_broker`: right after the fork the process may not
    # have exec'ed java yet.
    if ! alive "$pid"; then
      err "Kafka broker (pid $pid) exited during startup"
      show_logs 30
      rm -f "$PID_FILE"
      cds_finish 0
      exit 1
    fi
    if grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null && port_open "$PORT"; then
      log "Kafka broker ready at $HOST:$PORT (took $(elapsed_since "$t0")s)"
      return 0
    fi
    sleep 0.2
  done
  err "broker did not come up within $START_TIMEOUT s; killing it (pid $pid)"
  show_logs 30
  if is_our_broker "$pid"; then terminate "$pid" 5 || true; fi
  rm -f "$PID_FILE"
  cds_finish 0
  exit 1
}

cmd_stop() {
  if external; then
    log "KAFKA_BROKERS is set ($KAFKA_BROKERS): external cluster, nothing to stop"
    return 0
  fi
  [[ -d "$DATA_DIR" ]] || { log "Kafka broker is not running"; return 0; }
  lock "$DATA_DIR/.lock" 9
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PID_FILE"
    cds_finish 0
    log "Kafka broker is not running"
    return 0
  fi
  local t0 clean=1 timeout=$STOP_TIMEOUT
  t0=$(now)
  if [[ -f "$CDS_PENDING" ]]; then
    # First stop with this JVM: the broker writes its class-data-sharing
    # archive while exiting (a few seconds; much longer on a busy machine).
    timeout=$(( STOP_TIMEOUT + 60 ))
    log "stopping Kafka broker (pid $pid); it writes its class-data-sharing archive on this first exit ..."
  else
    log "stopping Kafka broker (pid $pid) ..."
  fi
  terminate "$pid" "$timeout" || clean=0
  if is_our_broker "$pid"; then
    die "could not stop Kafka broker (pid $pid)"
  fi
  rm -f "$PID_FILE"
  log "Kafka broker stopped (took $(elapsed_since "$t0")s)"
  cds_finish "$clean"
}

cmd_status() {
  if external; then
    local first=${KAFKA_BROKERS%%,*}
    first=${first#*://}
    if (exec 3<>"/dev/tcp/${first%:*}/${first##*:}") 2>/dev/null; then
      log "using external Kafka cluster $KAFKA_BROKERS (reachable)"
      return 0
    fi
    log "using external Kafka cluster $KAFKA_BROKERS (NOT reachable)"
    return 1
  fi
  local pid
  if pid=$(our_pid); then
    if port_open "$PORT"; then
      log "running (pid $pid) at $HOST:$PORT, data in $DATA_DIR"
      return 0
    fi
    log "not running: process $pid exists but $HOST:$PORT is not answering (starting or stuck)"
    return 1
  fi
  log "not running"
  return 1
}

cmd_reset() {
  if external; then
    log "KAFKA_BROKERS is set ($KAFKA_BROKERS): external cluster, nothing to reset"
    return 0
  fi
  cmd_stop
  case "$DATA_DIR" in
    "" | / | "$HOME" | "$REPO_ROOT" | "$SCRIPT_DIR")
      die "refusing to delete suspicious data dir '$DATA_DIR'" ;;
  esac
  if [[ -d "$DATA_DIR" ]]; then
    rm -rf "$DATA_DIR"
    log "deleted $DATA_DIR"
  else
    log "nothing to delete ($DATA_DIR does not exist)"
  fi
}

cmd_brokers() {
  if external; then
    printf '%s\n' "$KAFKA_BROKERS"
  elif sasl_ssl; then
    printf '%s\n' "localhost:$PORT"
  else
    printf '%s\n' "$HOST:$PORT"
  fi
}

# The variables a service needs to use this broker (the password itself is not printed).
cmd_client_env() {
  printf 'KAFKA_BROKERS=%s\n' "$(cmd_brokers)"
  if sasl_ssl && ! external; then
    printf 'KAFKA_TLS=true\nKAFKA_TLS_CA=%s\nKAFKA_SASL_MECHANISM=scram-sha-512\nKAFKA_SASL_USERNAME=%s\n' "$CERT_DIR/ca.crt" "$SASL_USER"
    printf '# and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE): the password the broker was formatted with\n'
  fi
}

cmd_logs() {
  local f
  for f in "$BROKER_LOG" "$SERVER_LOG"; do
    if [[ -f "$f" ]]; then
      printf -- '----- %s -----\n' "$f"
      tail -n "${1:-50}" "$f"
    fi
  done
}

check_settings() {
  local name value
  for name in KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_START_TIMEOUT KAFKA_STOP_TIMEOUT KAFKA_MTLS_PORT \
              KAFKA_NODE_ID KAFKA_REPLICATION KAFKA_CLUSTER_PORT KAFKA_CLUSTER_CONTROLLER_PORT; do
    value=${!name:-}
    if [[ -n "$value" && ! "$value" =~ ^[0-9]+$ ]]; then
      die "$name must be a number, got '$value'"
    fi
  done
  [[ "$PORT" != "$CONTROLLER_PORT" ]] \
    || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ (both are $PORT)"
  case "$SECURITY" in
    plaintext | sasl_ssl) ;;
    *) die "KAFKA_SECURITY must be plaintext or sasl_ssl, got '$SECURITY'" ;;
  esac
  [[ -z "$MTLS_PORT" ]] || sasl_ssl || die "KAFKA_MTLS_PORT needs KAFKA_SECURITY=sasl_ssl"
  if sasl_ssl; then
    [[ "$SASL_USER" =~ ^[A-Za-z0-9._-]+$ ]] || die "KAFKA_SASL_USERNAME may hold only A-Z a-z 0-9 . _ - here"
    [[ "$SASL_PASS" =~ ^[A-Za-z0-9._~+/=-]+$ ]] \
      || die "KAFKA_SASL_PASSWORD may hold only A-Z a-z 0-9 . _ ~ + / = - here (it goes into the broker's SCRAM and JAAS settings)"
  fi
}

# ------------------------------------------------------------ a cluster --
# Three KRaft nodes (each broker + controller, the three the controller quorum) on one machine, from
# the same jars: own ports, data dirs and heaps. Each node is this script run for one broker.

readonly CLUSTER_SIZE=3
readonly CLUSTER_PORT="${KAFKA_CLUSTER_PORT:-19592}"
readonly CLUSTER_CONTROLLER_PORT="${KAFKA_CLUSTER_CONTROLLER_PORT:-$(( CLUSTER_PORT + CLUSTER_SIZE ))}"
CLUSTER_DIR=$(abs_path "${KAFKA_CLUSTER_DATA_DIR:-$REPO_ROOT/tmp/kafka-cluster}")
readonly CLUSTER_DIR
readonly CLUSTER_HEAP="${KAFKA_CLUSTER_HEAP:-256m}"

cluster_voters() {
  local i voters=()
  for (( i = 1; i <= CLUSTER_SIZE; i++ )); do
    voters+=("$i@$HOST:$(( CLUSTER_CONTROLLER_PORT + i - 1 ))")
  done
  local IFS=,
  printf '%s\n' "${voters[*]}"
}

cluster_brokers() {
  local i brokers=()
  for (( i = 1; i <= CLUSTER_SIZE; i++ )); do brokers+=("$HOST:$(( CLUSTER_PORT + i - 1 ))"); done
  local IFS=,
  printf '%s\n' "${brokers[*]}"
}

# Runs this script's <command> for node $1 (its own port, controller port, data dir and heap).
cluster_node() {
  local i=$1
  shift
  env -u KAFKA_BROKERS -u KAFKA_SECURITY -u KAFKA_MTLS_PORT \
    KAFKA_NODE_ID="$i" KAFKA_QUORUM_VOTERS="$(cluster_voters)" KAFKA_REPLICATION=$CLUSTER_SIZE \
    KAFKA_PORT=$(( CLUSTER_PORT + i - 1 )) KAFKA_CONTROLLER_PORT=$(( CLUSTER_CONTROLLER_PORT + i - 1 )) \
    KAFKA_DATA_DIR="$CLUSTER_DIR/node-$i" KAFKA_HEAP="$CLUSTER_HEAP" KAFKA_LOG_NAME="kafka node-$i" \
    KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-180}" \
    bash "${BASH_SOURCE[0]}" "$@"
}

# Runs <command> on every node at once; fails if any node failed.
cluster_each() {
  local i pids=() failed=0
  for (( i = 1; i <= CLUSTER_SIZE; i++ )); do
    cluster_node "$i" "$@" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  return "$failed"
}

cmd_cluster() {
  local sub=${1:-}
  case "$sub" in
    start)
      external && die "KAFKA_BROKERS is set ($KAFKA_BROKERS): unset it to run a local cluster"
      cmd_fetch
      local i id t0
      t0=$(now)
      mkdir -p "$CLUSTER_DIR"
      printf '*\n' >"$CLUSTER_DIR/.gitignore"
      # One cluster id for the three nodes' storage.
      if [[ ! -s "$CLUSTER_DIR/cluster.id" ]]; then
        # What StorageTool random-uuid prints: 16 random bytes in URL-safe base64 without padding.
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=
')
        [[ ${#id} == 22 ]] || die "could not make a cluster id"
        printf '%s\n' "$id" >"$CLUSTER_DIR/cluster.id"
      fi
      for (( i = 1; i <= CLUSTER_SIZE; i++ )); do
        mkdir -p "$CLUSTER_DIR/node-$i"
        cp "$CLUSTER_DIR/cluster.id" "$CLUSTER_DIR/node-$i/cluster.id"
      done
      # All at once: a node finishes starting only once the controller quorum (all three) has formed.
      if ! cluster_each start; then
        err "the cluster did not start; stopping what did"
        cluster_each stop || true
        exit 1
      fi
      log "cluster of $CLUSTER_SIZE brokers ready at $(cluster_brokers) (took $(elapsed_since "$t0")s); topics: replication factor $CLUSTER_SIZE, min.insync.replicas 2"
      ;;
    stop) cluster_each stop ;;
    status)
      local rc=0
      for (( i = 1; i <= CLUSTER_SIZE; i++ )); do cluster_node "$i" status || rc=1; done
      return "$rc" ;;
    reset)
      cluster_each stop || true
      case "$CLUSTER_DIR" in
        "" | / | "$HOME" | "$REPO_ROOT" | "$SCRIPT_DIR") die "refusing to delete suspicious data dir '$CLUSTER_DIR'" ;;
      esac
      rm -rf "$CLUSTER_DIR"
      log "deleted $CLUSTER_DIR" ;;
    brokers) cluster_brokers ;;
    client-env)
      printf 'KAFKA_BROKERS=%s\nKAFKA_TOPIC_REPLICATION_FACTOR=%s\nKAFKA_TOPIC_MIN_INSYNC_REPLICAS=2\n' "$(cluster_brokers)" "$CLUSTER_SIZE" ;;
    pids)
      for (( i = 1; i <= CLUSTER_SIZE; i++ )); do
        printf '%s %s\n' "$i" "$(cat "$CLUSTER_DIR/node-$i/broker.pid" 2>/dev/null || echo -)"
      done ;;
    logs) for (( i = 1; i <= CLUSTER_SIZE; i++ )); do cluster_node "$i" logs "${2:-20}"; done ;;
    *)
      [[ -n "$sub" ]] && err "unknown cluster command '$sub'"
      usage >&2
      exit 2 ;;
  esac
}

main() {
  check_settings
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    fetch)
      if fetched; then log "Kafka $KAFKA_VERSION already fetched into $LIB_DIR"; else cmd_fetch; fi ;;
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    status)  cmd_status ;;
    reset)   cmd_reset ;;
    brokers) cmd_brokers ;;
    client-env) cmd_client_env ;;
    cluster) cmd_cluster "$@" ;;
    logs)    cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
      [[ -n "$cmd" ]] && err "unknown command '$cmd'"
      usage >&2
      exit 2 ;;
  esac
}

main "$@"
