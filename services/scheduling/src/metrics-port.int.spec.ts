import { createServer, AddressInfo } from 'node:net';
import { SchedulingTestApp, startSchedulingApp } from './testing/scheduling-app';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * METRICS_PORT (a platform setting, the same in every service): /metrics is served on a port of its
 * own and not on the service port, so a public port (the gateway's) need not expose it. The real
 * scraping by Prometheus is test/e2e/prometheus.e2e.spec.ts (service ports).
 */
describe('METRICS_PORT', () => {
  let t: SchedulingTestApp | undefined;
  let metricsPort: number;
  afterAll(async () => t?.close());

  it('serves /metrics on its own port only, from start-up until shutdown', async () => {
    metricsPort = await freePort();
    t = await startSchedulingApp({ now: '2030-03-04T12:00:00.000Z', env: { METRICS_PORT: String(metricsPort) } });
    expect((await t.request('GET', '/health/live')).status).toBe(200);

    const onServicePort = await t.request('GET', '/metrics');
    expect({ status: onServicePort.status, code: onServicePort.body?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });

    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    expect(text).toMatch(/^service_started\{service="scheduling"\} 1$/m);
    // The service port's requests are measured and shown there (the refused /metrics among them).
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/health\/live",status_class="2xx"\} [1-9]/m);

    const other = await fetch(`http://127.0.0.1:${metricsPort}/health/live`);
    expect({ status: other.status, type: other.headers.get('content-type') }).toEqual({ status: 404, type: 'application/problem+json' });

    await t.close();
    t = undefined;
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('refuses a port that is no port', async () => {
    const { loadSchedulingConfig } = await import('./config');
    expect(() => loadSchedulingConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT="70000" is invalid/);
  });
});
