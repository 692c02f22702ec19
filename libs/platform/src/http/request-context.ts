import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HEADER_CORRELATION_ID } from '@booking/contracts';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { acceptCorrelationId, CorrelationContext, withCorrelation } from '../logging/correlation';

export type RequestContextOptions = {
  /** Paths whose answers are not logged: health probes (a 503 from /health/ready is a report, not a failure). */
  quietPrefix?: string;
  /** The level of a request's line when it did not fail: `info`, or `debug` in development (request lines would drown the rest). */
  requestLevel?: 'info' | 'debug';
};

/**
 * Installed first on every service's Fastify instance, as one hook: accepts or makes the request's
 * correlation id, echoes it, runs the handler inside it (so logs, outbox rows and Kafka headers pick
 * it up), and writes one structured line when the answer is done — at info (debug in development), or at error for a 5xx,
 * which is logged whatever LOG_LEVEL says short of silent (health probes are not logged). It costs
 * one listener and no child logger per request; at LOG_LEVEL=warn a 2xx/4xx answer formats nothing.
 *
 * One `onRequest` hook: it runs before anything else Fastify does with the request, so refusals
 * before any handler carry the id too, and the rest of the request (body parsing included) runs
 * inside the correlation.
 */
export function installRequestContext(fastify: FastifyInstance, logger: Logger, options: RequestContextOptions = {}): void {
  const quietPrefix = options.quietPrefix ?? '/health';
  const level = options.requestLevel ?? 'info';
  fastify.addHook('onRequest', (request, reply, done) => withCorrelation(beginRequest(logger, request.raw, reply.raw, quietPrefix, level), done));
}

/** Takes or makes the correlation id, echoes it, and attaches the completion log line. */
function beginRequest(logger: Logger, req: IncomingMessage & { id?: string }, res: ServerResponse, quietPrefix: string, level: 'info' | 'debug'): CorrelationContext {
  const correlationId = acceptCorrelationId(req.headers[HEADER_CORRELATION_ID]);
  req.id = correlationId;
  res.setHeader(HEADER_CORRELATION_ID, correlationId);
  if (logger.isLevelEnabled('error') && !(req.url ?? '').startsWith(quietPrefix)) {
    const started = performance.now();
    res.once('close', () => logCompletion(logger, req, res, correlationId, started, level));
  }
  return { correlationId };
}

function logCompletion(logger: Logger, req: IncomingMessage, res: ServerResponse, correlationId: string, started: number, level: 'info' | 'debug'): void {
  const status = res.statusCode;
  const finished = res.writableFinished;
  const failed = finished && status >= 500;
  if (!failed && !logger.isLevelEnabled(level)) return;
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const line = {
    correlationId,
    req: { method: req.method, url },
    res: { statusCode: status },
    responseTime: Math.round((performance.now() - started) * 10) / 10,
  };
  if (failed) logger.error(line, 'request errored');
  else if (finished) logger[level](line, 'request completed');
  else logger[level](line, 'request aborted');
}
