import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { isTracingEnabled } from './propagation';

/**
 * Names each request's server span (made by the http instrumentation, which knows no routes) after
 * the route template Fastify matched, `POST /v1/appointments/:id`, and records it as `http.route`.
 * Nothing is installed when tracing is off.
 */
export function installHttpTracing(fastify: FastifyInstance): void {
  if (!isTracingEnabled()) return;
  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const span = trace.getActiveSpan();
    if (span && route) {
      span.updateName(`${request.method} ${route}`);
      span.setAttribute('http.route', route);
    }
    done();
  });
}
