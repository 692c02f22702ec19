# syntax=docker/dockerfile:1
# One image per service, from this one file: the SERVICE build argument picks the service.
#   docker build --build-arg SERVICE=scheduling -t booking/scheduling .
#   docker run booking/scheduling            # serves (the default command, `serve`)
#   docker run booking/scheduling migrate    # applies the service's migrations as DATABASE_MIGRATION_URL's role, then exits
# The build and deps stages do not depend on SERVICE, so BuildKit builds them once for all five images.
ARG NODE_IMAGE=node:26-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# @scarf/scarf (pulled in by @nestjs/swagger) phones home from its install script.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY services ./services
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG SERVICE
RUN case "$SERVICE" in api-gateway|scheduling|payment|notification|reminder) ;; \
      *) echo "build with --build-arg SERVICE=api-gateway|scheduling|payment|notification|reminder (got '$SERVICE')" >&2; exit 1 ;; esac
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 SERVICE=${SERVICE}
WORKDIR /app
# Everything stays owned by root: the service runs as `node` and cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/services/${SERVICE} ./dist/services/${SERVICE}
# register-paths.js maps the @booking/* aliases of tsconfig.base.json onto dist/.
COPY package.json tsconfig.base.json ./
COPY tools/register-paths.js ./tools/register-paths.js
COPY --chmod=0755 infra/docker/entrypoint.sh ./entrypoint.sh
COPY infra/docker/healthcheck.js ./healthcheck.js
USER node
# Each service listens on its own default port (api-gateway 3000, scheduling 3001, payment 3002,
# notification 3003, reminder 3004) unless PORT says otherwise; the probe asks the same port.
EXPOSE 3000-3004
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/healthcheck.js", "/health/live"]
ENTRYPOINT ["/app/entrypoint.sh"]
CMD ["serve"]
