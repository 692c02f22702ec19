#!/usr/bin/env bash
# Applies migrations as their own step: `npm run migrate` (every service) or
# `npm run migrate -- scheduling payment` (those). Each service migrates its own schema as the
# migration role: DATABASE_MIGRATION_URL, else DATABASE_DIRECT_URL, else DATABASE_URL (see the README,
# "Operations"). Builds first; stops at the first service whose migration fails.
set -euo pipefail
SCRIPT_NAME=migrate
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

all=(scheduling payment notification reminder api-gateway)
services=("$@")
[ "${#services[@]}" -gt 0 ] || services=("${all[@]}")
for service in "${services[@]}"; do
  [[ " ${all[*]} " == *" $service "* ]] || die "unknown service '$service' (one of: ${all[*]})"
done

ensure_node_modules
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/booking}"
log "building"
npx tsc -p tsconfig.build.json
for service in "${services[@]}"; do
  log "migrating $service"
  node --enable-source-maps -r ./tools/register-paths.js "dist/services/$service/src/migrate.js" || die "$service: migration failed (see above)"
done
log "done: ${services[*]}"
