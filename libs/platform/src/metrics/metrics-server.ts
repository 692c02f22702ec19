import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Platform } from '../platform';
import { problem } from '../http/problem';
import { metricsRegistry } from './registry';

/**
 * `GET /metrics` on a port of its own (`METRICS_PORT`) instead of the service port, so a port that is
 * public (the gateway's) need not expose it. A bare Node HTTP server: nothing else is served there,
 * scrapes are not traced, counted or subject to admission control, and they never compete with the
 * service's routes. It listens on `HTTP_HOST` from start-up until the application shuts down.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server?: Server;

  constructor(@Inject(Platform) private readonly platform: Platform) {}

  /** Where it listens (tests ask for port 0 and read the one given). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { METRICS_PORT: port, HTTP_HOST: host } = this.platform.options.config;
    if (port === undefined) return;
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
        const body = JSON.stringify(problem(404, 'NOT_FOUND', 'Only GET /metrics is served on this port.'));
        response.writeHead(404, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }).end(body);
        return;
      }
      metricsRegistry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          this.platform.logger.error({ err: error }, 'metrics scrape failed');
          response.writeHead(500).end();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`METRICS_PORT=${port}: cannot listen on ${host}:${port} (${error.code ?? error.message})`)));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.platform.logger.info({ url: `http://${host}:${this.port}/metrics` }, 'metrics listening');
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }
}
