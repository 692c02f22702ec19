import { AddressInfo, connect } from 'node:net';
import { Writable } from 'node:stream';
import Fastify, { FastifyInstance } from 'fastify';
import pino from 'pino';
import { currentCorrelation } from '../logging/correlation';
import { NestPinoLogger } from '../logging/logger';
import { installRequestContext } from './request-context';

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

/** A bare Fastify instance with the hooks in front of a handler that answers with what it saw. */
async function serve(level: string, requestLevel?: 'info' | 'debug'): Promise<{ url: string; lines: Line[]; server: FastifyInstance }> {
  const { logger, lines } = capture(level);
  const server = Fastify();
  installRequestContext(server, logger, { requestLevel });
  server.all('/*', (request, reply) => {
    setImmediate(() => {
      const status = Number(new URL(request.url, 'http://x').searchParams.get('status') ?? 200);
      void reply.status(status).send({ seen: currentCorrelation()?.correlationId ?? null, id: (request.raw as { id?: string }).id, body: request.body ?? null });
    });
    return reply;
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`, lines, server };
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

describe('installRequestContext', () => {
  let servers: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  it('accepts a safe correlation id, echoes it and runs the request inside it', async () => {
    const { url, server } = await serve('info');
    servers.push(server);
    const res = await fetch(`${url}/things`, { headers: { 'x-correlation-id': 'caller-id-1' } });
    expect(res.headers.get('x-correlation-id')).toBe('caller-id-1');
    expect(await res.json()).toEqual({ seen: 'caller-id-1', id: 'caller-id-1', body: null });
    // Also after a body was read (its stream events run outside the request's context).
    const posted = await fetch(`${url}/things`, { method: 'POST', headers: { 'x-correlation-id': 'caller-id-2', 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await posted.json()).toEqual({ seen: 'caller-id-2', id: 'caller-id-2', body: { a: 1 } });
    // And when the body arrives in a later packet than the headers.
    const late = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
      socket.write('POST /things HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-correlation-id: caller-id-3\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n');
      setTimeout(() => socket.write('{"b":2}'), 100);
    });
    expect(JSON.parse(late.slice(late.indexOf('\r\n\r\n') + 4))).toEqual({ seen: 'caller-id-3', id: 'caller-id-3', body: { b: 2 } });
  });

  it('makes a new id when none or an unsafe one is given', async () => {
    const { url, server } = await serve('info');
    servers.push(server);
    for (const given of [undefined, 'has spaces and {braces}', 'x'.repeat(129)]) {
      const res = await fetch(`${url}/things`, { headers: given ? { 'x-correlation-id': given } : {} });
      const id = res.headers.get('x-correlation-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await res.json()).toEqual({ seen: id, id, body: null });
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

  it('writes request lines at debug when asked (development): nothing at info, one line at debug, a 5xx still at error', async () => {
    const atInfo = await serve('info', 'debug');
    servers.push(atInfo.server);
    await get(`${atInfo.url}/things`);
    await get(`${atInfo.url}/boom?status=503`);
    await linesWritten(atInfo.lines, 1);
    expect(atInfo.lines.map((l) => [l.level, l.msg])).toEqual([[50, 'request errored']]);
    const atDebug = await serve('debug', 'debug');
    servers.push(atDebug.server);
    await get(`${atDebug.url}/things`, { 'x-correlation-id': 'c-7' });
    await linesWritten(atDebug.lines, 1);
    expect(atDebug.lines).toHaveLength(1);
    expect(atDebug.lines[0]).toMatchObject({ level: 20, msg: 'request completed', correlationId: 'c-7' });
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
