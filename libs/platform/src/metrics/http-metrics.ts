import type { FastifyInstance } from 'fastify';
import { histogram, LATENCY_BUCKETS } from './registry';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** `503` → `5xx`; anything outside 100-599 counts as `5xx` (it is a server fault). */
export function statusClass(status: number): string {
  return STATUS_CLASSES[Math.floor(status / 100) - 1] ?? '5xx';
}

/**
 * One histogram observation per answered request, labelled by the route template Fastify matched
 * (`/v1/appointments/:id`, never the id itself), so the label set is as large as the route table.
 * A request no route matched (404s, refusals before routing) is `unmatched`.
 */
export function installHttpMetrics(fastify: FastifyInstance): void {
  const duration = histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by method, route template and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_class: statusClass(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
