#!/bin/sh
# Creates or updates every service's Postgres roles and schema (service-roles.sql, once per service).
# Run by an admin (Compose's `postgres-roles` service, the Kubernetes `postgres-roles` Job, or by hand):
#   ADMIN_DATABASE_URL=postgres://postgres:...@host:5432/booking \
#   GATEWAY_OWNER_PASSWORD=... GATEWAY_APP_PASSWORD=... SCHEDULING_OWNER_PASSWORD=... (every schema) \
#   sh infra/postgres/create-roles.sh
# ROLE_PREFIX (default empty) goes in front of every role name.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
: "${ADMIN_DATABASE_URL:?set ADMIN_DATABASE_URL to an admin connection of the platform database}"
for schema in gateway scheduling payment notification reminder; do
  upper="$(printf '%s' "$schema" | tr 'a-z' 'A-Z')"
  eval "owner_password=\${${upper}_OWNER_PASSWORD:-}"
  eval "app_password=\${${upper}_APP_PASSWORD:-}"
  [ -n "$owner_password" ] || { echo "create-roles: ${upper}_OWNER_PASSWORD is missing" >&2; exit 1; }
  [ -n "$app_password" ] || { echo "create-roles: ${upper}_APP_PASSWORD is missing" >&2; exit 1; }
  psql "$ADMIN_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -v schema="$schema" -v prefix="${ROLE_PREFIX:-}" \
    -v owner_password="$owner_password" -v app_password="$app_password" -f "$here/service-roles.sql"
  echo "create-roles: ${ROLE_PREFIX:-}${schema}_owner and ${ROLE_PREFIX:-}${schema}_app ready"
done
