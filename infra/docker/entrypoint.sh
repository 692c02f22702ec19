#!/bin/sh
# The images' entrypoint. `serve` (the default) runs the service named by SERVICE (set at build time);
# `migrate` applies its migrations and exits (the Compose `*-migrate` services, the Kubernetes
# migration Jobs); anything else runs as given. `exec`, so the service gets the container's signals.
set -eu
cd "${APP_DIR:-/app}"
case "${1:-serve}" in
  serve) exec node --enable-source-maps -r ./tools/register-paths.js "dist/services/$SERVICE/src/main.js" ;;
  migrate) exec node --enable-source-maps -r ./tools/register-paths.js "dist/services/$SERVICE/src/migrate.js" ;;
  *) exec "$@" ;;
esac
