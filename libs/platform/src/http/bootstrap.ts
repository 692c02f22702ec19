import type { Socket } from 'node:net';
import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HEADER_CORRELATION_ID, ProblemCode } from '@booking/contracts';
import { acceptCorrelationId } from '../logging/correlation';
import { BaseConfig } from '../config/config';
import { NestPinoLogger } from '../logging/logger';
import { Platform } from '../platform';
import { problem, ProblemError, ProblemFilter } from './problem';
import { installAdmissionControl } from './admission';
import { RouteMethods } from './method-not-allowed';
import { installRequestContext } from './request-context';
import { decodeJsonBody, installTextCheck, parseQueryString, refuseContentEncoding } from './request-text';
import { installHttpMetrics } from '../metrics/http-metrics';
import { installHttpTracing } from '../tracing/http-tracing';

export type HttpSettings = Pick<BaseConfig, 'HTTP_HOST' | 'HTTP_BODY_LIMIT' | 'HTTP_LISTEN_BACKLOG' | 'SHUTDOWN_DRAIN_MS' | 'SHUTDOWN_TIMEOUT_MS'> & { port: number };

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `64kb` → 65536 (the config schema admits b, kb and mb). */
export function bodyLimitBytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/.exec(limit);
  if (!match) throw new Error(`HTTP_BODY_LIMIT must look like 64kb; got ${limit}`);
  return Number(match[1]) * UNITS[match[2]];
}

/**
 * Requests Node refuses before any route sees them (an oversized URL or header block, a malformed
 * request line, a request that took too long to arrive) get a problem+json answer, not a bare status line.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, code, detail]: [number, string, ProblemCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'The request line or headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request was not received in time.']
        : [400, 'Bad Request', 'MALFORMED_REQUEST', 'The request is not valid HTTP.'];
  const body = JSON.stringify(problem(status, code, detail));
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Requests Fastify's router refuses before any hook runs (a path with a broken percent-encoding, a
 * path segment longer than the router keeps): problem+json too, with a correlation id.
 */
function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const [code, detail]: [ProblemCode, string] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? ['URI_TOO_LONG', 'A path segment of the URL is too long.']
      : error.code === 'FST_ERR_BAD_URL'
        ? ['MALFORMED_URL', 'The URL is not valid (a broken percent-encoding?).']
        : ['MALFORMED_REQUEST', 'The request could not be routed.'];
  const body = problem(status, code, detail);
  body.instance = request.url;
  reply.header(HEADER_CORRELATION_ID, acceptCorrelationId(request.headers[HEADER_CORRELATION_ID]));
  reply.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * Builds a service's HTTP app the same way in production and in e2e tests: Nest on Fastify (several
 * times cheaper per request than on Express here; see the README), JSON bodies up to HTTP_BODY_LIMIT,
 * every refusal as problem+json.
 */
export async function createHttpApp(module: unknown, settings: Pick<HttpSettings, 'HTTP_BODY_LIMIT'>): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: bodyLimitBytes(settings.HTTP_BODY_LIMIT),
    // Ids in paths are checked by the handlers (400 INVALID_ID), however long.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048, querystringParser: parseQueryString },
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    logger: false,
  });
  const fastify = adapter.getInstance();
  const routeMethods = RouteMethods.install(fastify);
  // JSON is parsed by Fastify's own parser (refuses __proto__ and constructor.prototype) and must be an
  // object or an array, sent as UTF-8 without a Content-Encoding; an empty JSON body is no body. Any other body is read within the limit and
  // dropped, so that the handler's own checks answer (the gateway's is 415, after authentication).
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    let body: string;
    try {
      body = decodeJsonBody(request.headers['content-type'], request.headers['content-encoding'], raw as Buffer);
    } catch (error) {
      return done(error as Error, undefined);
    }
    if (body === '') return done(null, undefined);
    json(request, body, (error, value) => {
      // Strict, as before: a body is an object or an array; `null`, `"text"` or `1` is refused (a `null`
      // read as "no body" would turn a malformed cancel into a cancel).
      if (error || typeof value !== 'object' || value === null) done(new ProblemError(400, 'MALFORMED_JSON', 'The request body is not valid JSON: an object or an array.'), undefined);
      else done(null, value);
    });
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (request, _body, done) => {
    try {
      refuseContentEncoding(request.headers['content-encoding']);
      done(null, undefined);
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  const app = await NestFactory.create<NestFastifyApplication>(module as Type, adapter, { bufferLogs: true, bodyParser: false });
  const platform = app.get(Platform);
  app.useLogger(new NestPinoLogger(platform.logger));
  // Every answer (refused bodies and unknown routes included) carries the correlation id.
  // In development a request's line is at debug: a first run's log should read as what happened, not as traffic.
  installRequestContext(fastify, platform.logger, { requestLevel: platform.options.config.NODE_ENV === 'development' ? 'debug' : 'info' });
  const { config } = platform.options;
  installAdmissionControl(
    fastify,
    platform.knex,
    {
      maxInFlight: config.HTTP_MAX_IN_FLIGHT,
      maxPoolWaiters: config.DB_POOL_MAX_WAITERS,
      maxEventLoopLagMs: config.EVENT_LOOP_LAG_MAX_MS,
      retryAfterSeconds: config.OVERLOAD_RETRY_AFTER_SECONDS,
    },
    platform.logger,
  );
  installTextCheck(fastify);
  installHttpMetrics(fastify);
  installHttpTracing(fastify);
  app.useGlobalFilters(new ProblemFilter(platform.logger, routeMethods));
  // Fastify runs its onClose hooks once the server accepts nothing more and every in-flight request has
  // been answered (idle keep-alive connections are closed, busy ones get `Connection: close`).
  fastify.addHook('onClose', (_instance, done) => {
    if (platform.isShuttingDown()) platform.logger.info('shutdown: HTTP closed (no new connections, in-flight requests answered)');
    done();
  });
  return app;
}

/** Starts a service: listens, prints where to reach it, and stops gracefully on SIGINT/SIGTERM (see `serve`). */
export async function runService(module: unknown, settings: HttpSettings): Promise<INestApplication> {
  const app = await createHttpApp(module, settings);
  return serve(app, settings);
}

/**
 * Listens, logs where (with `announce`'s fields), and on the first SIGTERM or SIGINT shuts down in
 * order, each step logged once: readiness answers 503 at once; the instance keeps serving for
 * SHUTDOWN_DRAIN_MS so load balancers stop sending; then HTTP stops accepting and in-flight requests
 * finish; then the service's jobs, consumers, relay, listening session and pools stop (Nest's
 * shutdown hooks, `Platform.stop`); then the process exits. If all that has not ended within
 * SHUTDOWN_TIMEOUT_MS of the signal, the process exits anyway, with status 1. Later signals are
 * ignored (Ctrl-C under `npm start` brings both the terminal's SIGINT and the script's SIGTERM).
 */
export async function serve(app: NestFastifyApplication, settings: HttpSettings, announce: (url: string) => Record<string, unknown> = () => ({})): Promise<INestApplication> {
  await app.listen({ port: settings.port, host: settings.HTTP_HOST, backlog: settings.HTTP_LISTEN_BACKLOG });
  const platform = app.get(Platform);
  const url = `http://${settings.HTTP_HOST}:${settings.port}`;
  platform.logger.info({ url, ...announce(url), sinceProcessStartMs: Math.round(process.uptime() * 1000) }, `${platform.options.service} listening`);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      platform.logger.info({ signal }, 'shutdown: already under way; signal ignored');
      return;
    }
    stopping = true;
    const began = Date.now();
    const { SHUTDOWN_DRAIN_MS: drainMs, SHUTDOWN_TIMEOUT_MS: timeoutMs } = settings;
    setTimeout(() => {
      platform.logger.error({ timeoutMs }, 'shutdown: not finished within SHUTDOWN_TIMEOUT_MS; exiting now');
      process.exit(1);
    }, timeoutMs);
    platform.beginShutdown(timeoutMs);
    platform.logger.info({ signal, drainMs, timeoutMs }, 'shutdown: readiness answers 503; draining before HTTP closes');
    new Promise((resolve) => setTimeout(resolve, drainMs))
      .then(async () => {
        platform.logger.info('shutdown: drain over; closing HTTP and stopping');
        await app.close();
        platform.logger.info({ ms: Date.now() - began }, 'shutdown: done');
        process.exit(0);
      })
      .catch((error) => {
        platform.logger.error({ err: error }, 'shutdown: failed; exiting');
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return app;
}
