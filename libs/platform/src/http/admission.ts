import type { FastifyInstance } from 'fastify';
import { Knex } from 'knex';
import type { Logger } from 'pino';
import { problem } from './problem';

export type AdmissionLimits = {
  /** Requests being answered at once (health probes aside); 0: not checked. */
  maxInFlight: number;
  /** Queries waiting for a connection of the service's pool; 0: not checked. */
  maxPoolWaiters: number;
  /** How late the event loop may run timers; 0: not checked. */
  maxEventLoopLagMs: number;
  retryAfterSeconds: number;
};

const LAG_SAMPLE_MS = 100;

/** Requests waiting for a connection of a knex pool (tarn's pending acquires). */
function poolWaiters(knex: Knex): number {
  const pool = (knex.client as { pool?: { numPendingAcquires?: () => number } }).pool;
  return pool?.numPendingAcquires?.() ?? 0;
}

/**
 * Refuses work the service cannot take on in time, at once and before any of it is done: a request
 * that arrives while `maxInFlight` requests are being answered, while more than `maxPoolWaiters`
 * queries wait for a database connection, or while the event loop runs more than `maxEventLoopLagMs`
 * late gets 503 OVERLOADED with Retry-After, from the `onRequest` hook (before its body is read or a
 * handler runs), so nothing it asked for can commit later. Without it, the excess queued in the pool
 * and the event loop until callers timed out, while their work still went ahead. Health probes are
 * always answered.
 */
export function installAdmissionControl(fastify: FastifyInstance, knex: Knex, limits: AdmissionLimits, logger: Logger, healthPrefix = '/health'): void {
  let inFlight = 0;
  let lagMs = 0;
  let refusedSinceLog = 0;
  let expected = Date.now() + LAG_SAMPLE_MS;
  const sampler = setInterval(() => {
    const now = Date.now();
    lagMs = Math.max(0, now - expected);
    expected = now + LAG_SAMPLE_MS;
    if (refusedSinceLog > 0) {
      logger.warn({ refused: refusedSinceLog, inFlight, poolWaiters: poolWaiters(knex), eventLoopLagMs: lagMs }, 'overloaded: requests refused with 503');
      refusedSinceLog = 0;
    }
  }, LAG_SAMPLE_MS);
  sampler.unref();
  fastify.addHook('onClose', (_instance, done) => {
    clearInterval(sampler);
    done();
  });

  const overloaded = (): string | undefined => {
    if (limits.maxInFlight > 0 && inFlight >= limits.maxInFlight) return `${inFlight} requests are in flight (limit ${limits.maxInFlight})`;
    if (limits.maxPoolWaiters > 0 && poolWaiters(knex) > limits.maxPoolWaiters) return `more than ${limits.maxPoolWaiters} queries wait for a database connection`;
    if (limits.maxEventLoopLagMs > 0 && lagMs > limits.maxEventLoopLagMs) return `the event loop runs ${lagMs} ms late (limit ${limits.maxEventLoopLagMs} ms)`;
    return undefined;
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    if ((request.url ?? '').startsWith(healthPrefix)) return done();
    const reason = overloaded();
    if (reason) {
      refusedSinceLog++;
      const body = problem(503, 'OVERLOADED', `The service is overloaded (${reason}); nothing was done. Retry after ${limits.retryAfterSeconds} s.`, {
        instance: request.url,
      });
      reply
        .status(503)
        .header('retry-after', String(limits.retryAfterSeconds))
        .type('application/problem+json')
        .send(JSON.stringify(body));
      return;
    }
    inFlight++;
    reply.raw.once('close', () => inFlight--);
    done();
  });
}
