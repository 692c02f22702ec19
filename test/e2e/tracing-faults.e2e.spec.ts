import { createServer, Server, Socket } from 'node:net';
import { TestEnvironment } from '@booking/platform/testing';
import { http, RunningService, startService } from '../support/platform';

const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

/**
 * An OTLP endpoint that takes connections and never answers: exports hang until their timeout, the
 * bounded queue fills, and spans are dropped and counted — while every request is answered as usual.
 */
describe('tracing with an OTLP endpoint that never answers', () => {
  const env = new TestEnvironment();
  const sockets: Socket[] = [];
  let blackHole: Server;
  let scheduling: RunningService;

  beforeAll(async () => {
    blackHole = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as { port: number }).port;
    scheduling = await startService('scheduling', env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_MAX_QUEUE_SIZE: '20',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_BSP_EXPORT_TIMEOUT: '60000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
    });
  }, 240_000);

  afterAll(async () => {
    await scheduling?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackHole?.close(resolve));
    await env.destroy();
  });

  it('answers every request, drops spans beyond the queue and counts them', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const created = await http('POST', `${scheduling.url}/providers`, { name: `P${i}`, timeZone: 'UTC', slotDurationMinutes: 30, workingHours: { MON: ['09:00', '17:00'] } });
      statuses.push(created.status);
    }
    expect(statuses).toEqual(Array(60).fill(201));
    // Each request makes a server span and its queries' spans: far more than the 20 the queue holds
    // while the one export in flight hangs.
    const metrics = await (await fetch(`${scheduling.url}/metrics`)).text();
    expect(metric(metrics, 'otel_spans_dropped_total')).toBeGreaterThan(0);
    expect(sockets.length).toBeGreaterThan(0);
  }, 120_000);

  it('stops within its shutdown bound although the endpoint never answers', async () => {
    const started = Date.now();
    await scheduling.stop();
    expect(scheduling.child.exitCode !== null || scheduling.child.signalCode !== null).toBe(true);
    // Well inside the 15 s after which the test helper would kill it.
    expect(Date.now() - started).toBeLessThan(14_000);
  }, 30_000);
});
