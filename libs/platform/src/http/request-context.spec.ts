import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { currentCorrelation } from '../logging/correlation';
import { NestPinoLogger } from '../logging/logger';
import { requestContext } from './request-context';

type Line = Record<string, unknown> & { level: number; msg: string };

function capture(level: string) {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/** A bare Node server with the middleware in front of a handler that answers with what it saw. */
async function serve(level: string): Promise<{ url: string; lines: Line[]; server: Server }> {
  const { logger, lines } = capture(level);
  const middleware = requestContext(logger);
  const server = createServer((req, res) =>
    middleware(req, res, () => {
      setImmediate(() => {
        const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ seen: currentCorrelation()?.correlationId ?? null, id: (req as { id?: string }).id }));
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines, server };
}

/** Waits until `count` lines are written (a line is written when the server closes the response). */
async function linesWritten(lines: Line[], count: number): Promise<void> {
  for (let i = 0; i < 500 && lines.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  await res.text();
  return res;
};

describe('requestContext', () => {
  let servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers = [];
  });

  it('accepts a safe correlation id, echoes it and runs the request inside it', async () => {
    const { url, server } = await serve('info');
    servers.push(server);
    const res = await fetch(`${url}/things`, { headers: { 'x-correlation-id': 'caller-id-1' } });
    expect(res.headers.get('x-correlation-id')).toBe('caller-id-1');
    expect(await res.json()).toEqual({ seen: 'caller-id-1', id: 'caller-id-1' });
  });

  it('makes a new id when none or an unsafe one is given', async () => {
    const { url, server } = await serve('info');
    servers.push(server);
    for (const given of [undefined, 'has spaces and {braces}', 'x'.repeat(129)]) {
      const res = await fetch(`${url}/things`, { headers: given ? { 'x-correlation-id': given } : {} });
      const id = res.headers.get('x-correlation-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await res.json()).toEqual({ seen: id, id });
    }
  });

  it('writes one structured line per request at info, with the correlation id; health probes stay quiet', async () => {
    const { url, lines, server } = await serve('info');
    servers.push(server);
    await get(`${url}/health/ping`);
    await get(`${url}/things?a=1`, { 'x-correlation-id': 'c-42' });
    await linesWritten(lines, 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'request completed', correlationId: 'c-42', req: { method: 'GET', url: '/things?a=1' }, res: { statusCode: 200 } });
    expect(typeof lines[0].responseTime).toBe('number');
  });

  it('at warn writes nothing for 2xx and 4xx, but always logs a 5xx at error (health probes excepted)', async () => {
    const { url, lines, server } = await serve('warn');
    servers.push(server);
    await get(`${url}/things?status=201`);
    await get(`${url}/things?status=404`);
    await get(`${url}/things?status=503`, { 'x-correlation-id': 'c-503' });
    await get(`${url}/health/ready?status=503`);
    await get(`${url}/things?status=500`);
    await linesWritten(lines, 2);
    expect(lines.map((l) => [l.level, l.msg, (l.res as { statusCode: number }).statusCode])).toEqual([
      [50, 'request errored', 503],
      [50, 'request errored', 500],
    ]);
    expect(lines[0].correlationId).toBe('c-503');
  });

  it('logs nothing at all when silent', async () => {
    const { url, lines, server } = await serve('silent');
    servers.push(server);
    await get(`${url}/things?status=500`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
  });
});

describe('NestPinoLogger', () => {
  it("writes Nest's messages with their context, and errors with their stack", () => {
    const { logger, lines } = capture('info');
    const nest = new NestPinoLogger(logger);
    nest.log('Nest application successfully started', 'NestApplication');
    nest.debug('not at info', 'X');
    nest.error('boom', 'Error: boom\n    at somewhere', 'ExceptionsHandler');
    nest.warn({ detail: 1 }, 'Ctx');
    expect(lines.map((l) => [l.level, l.msg, l.context])).toEqual([
      [30, 'Nest application successfully started', 'NestApplication'],
      [50, 'boom', 'ExceptionsHandler'],
      [40, undefined, 'Ctx'],
    ]);
    expect((lines[1].err as { stack: string }).stack).toContain('at somewhere');
    expect(lines[2].detail).toBe(1);
  });
});
