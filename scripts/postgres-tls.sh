#!/usr/bin/env bash
# Turns on TLS on the local Postgres server (the test machines' own, 127.0.0.1:5432) with a server
# certificate signed by a CA of its own, for the tests of DATABASE_SSLMODE / DATABASE_SSLROOTCERT, and
# prints the CA certificate's path. Idempotent: once done, it only prints the path. Plain connections keep
# working (TLS is offered, not required). The certificate names `localhost` only, so a client that
# checks the host name (verify-full) accepts `localhost` and refuses `127.0.0.1`.
#   bash scripts/postgres-tls.sh          # needs the superuser on ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
SCRIPT_NAME=postgres-tls
source "$(dirname "$0")/lib.sh"

admin="${ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
sql() { psql "$admin" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
command -v openssl >/dev/null || ensure_debian_package openssl openssl

data_dir="$(sql 'SHOW data_directory')"
[ -d "$data_dir" ] || die "the server's data directory ($data_dir) is not on this machine: this script only sets up the local server"
dir="$data_dir/booking-tls"
if [ "$(sql 'SHOW ssl')" = on ] && [ "$(sql 'SHOW ssl_cert_file')" = "$dir/server.crt" ] && [ -f "$dir/ca.crt" ]; then
  echo "$dir/ca.crt"
  exit 0
fi

log "creating a CA and a server certificate for localhost in $dir"
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=booking test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
  -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
rm -f "$dir/ca.key" "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
# The server refuses a key that others may read.
owner="$(stat -c %U "$data_dir")"
chown -R "$owner" "$dir"
chmod 600 "$dir/server.key"
chmod 644 "$dir/ca.crt" "$dir/server.crt"
sql "ALTER SYSTEM SET ssl_cert_file = '$dir/server.crt'"
sql "ALTER SYSTEM SET ssl_key_file = '$dir/server.key'"
sql "ALTER SYSTEM SET ssl = on"
sql 'SELECT pg_reload_conf()' >/dev/null
for _ in $(seq 50); do [ "$(sql 'SHOW ssl')" = on ] && break; sleep 0.1; done
[ "$(sql 'SHOW ssl')" = on ] || die "the server did not turn TLS on (see its log)"
log "TLS is on (CA: $dir/ca.crt)"
echo "$dir/ca.crt"
