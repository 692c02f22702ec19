import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Consumer, Kafka, logLevel } from 'kafkajs';
import { PROBLEM_CODES, TOPICS } from '@booking/contracts';
import { eventually } from '@booking/platform/testing';
import { SchedulingChangeFeed } from './upstream/scheduling-change-feed';
import { freePort, GatewayStack, HttpTestClient, roundTheClockProvider, slotSequence, startGatewayStack } from './testing/gateway-stack';

/**
 * The gateway's own behaviour against the real scheduling service, Postgres, Kafka and Redis:
 * correlation ids into Kafka headers, rate limits shared by instances, OpenAPI, problem+json for
 * every kind of failure, and what happens when scheduling is slow, down or off-contract.
 */
describe('api gateway (e2e)', () => {
  let t: GatewayStack;
  let admin: string;
  let providerId: string;
  const nextSlot = slotSequence();

  beforeAll(async () => {
    t = await startGatewayStack();
    admin = await t.token({ sub: 'ops-admin', roles: ['admin'] });
    const res = await t.gateway.request('POST', '/v1/providers', { token: admin, body: roundTheClockProvider() });
    expect(res.status).toBe(201);
    providerId = res.body.id;
  });
  afterAll(async () => t?.close());

  describe('correlation id', () => {
    let consumer: Consumer;
    const seen: { correlationId?: string; type?: string; appointmentId: string }[] = [];

    beforeAll(async () => {
      const kafka = new Kafka({ clientId: `gateway-test-${t.env.id}`, brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
      consumer = kafka.consumer({ groupId: `${t.env.namespace}.gateway-test`, sessionTimeout: 6000 });
      await consumer.connect();
      await consumer.subscribe({ topic: `${t.env.namespace}.${TOPICS.appointment}`, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({
            correlationId: message.headers?.['x-correlation-id']?.toString(),
            type: message.headers?.['event-type']?.toString(),
            appointmentId: message.key!.toString(),
          });
        },
      });
    });
    afterAll(async () => consumer?.disconnect());

    const client = () => t.token({ sub: 'user-ada', roles: ['client'], client_id: 'client-ada' });
    const book = async (headers: Record<string, string>) =>
      t.gateway.request('POST', '/v1/appointments', {
        token: await client(),
        headers,
        body: { providerId, clientId: 'client-ada', start: nextSlot(), client: { timeZone: 'Asia/Tokyo' } },
      });

    it('returns the caller\'s id and carries it into the Kafka header of AppointmentRequested', async () => {
      const correlationId = `order-${randomUUID()}`;
      const res = await book({ 'x-correlation-id': correlationId });
      expect(res.status).toBe(201);
      expect(res.headers['x-correlation-id']).toBe(correlationId);
      const event = await eventually(async () => seen.find((e) => e.appointmentId === res.body.id && e.type === 'AppointmentRequested'), 20_000, 'AppointmentRequested');
      expect(event.correlationId).toBe(correlationId);
      const history = await t.gateway.request('GET', `/v1/appointments/${res.body.id}/events`, { token: await client() });
      expect(history.body.items[0]).toMatchObject({ type: 'AppointmentRequested', correlationId });
    });

    it('makes one when none (or an unsafe one) is given, and carries that instead', async () => {
      const res = await book({ 'x-correlation-id': 'not safe; has spaces' });
      expect(res.status).toBe(201);
      const generated = res.headers['x-correlation-id'] as string;
      expect(generated).toMatch(/^[0-9a-f-]{36}$/);
      const event = await eventually(async () => seen.find((e) => e.appointmentId === res.body.id && e.type === 'AppointmentRequested'), 20_000, 'AppointmentRequested');
      expect(event.correlationId).toBe(generated);
    });
  });

  describe('rate limits', () => {
    it('counts per caller across gateway instances (Redis), with the standard headers and a 429 problem', async () => {
      const prefix = `rl:${t.env.id}:shared`;
      const [one, two] = [
        await t.startGateway({ RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_KEY_PREFIX: prefix }),
        await t.startGateway({ RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_KEY_PREFIX: prefix }),
      ];
      const token = await t.token({ sub: `limited-${randomUUID()}`, roles: ['admin'] });
      const replies = [];
      for (const client of [one.client, two.client, one.client, two.client]) replies.push(await client.request('GET', '/v1/providers', { token }));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(replies.map((r) => r.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
      expect(replies[0].headers['ratelimit-limit']).toBe('3');
      const limited = replies[3];
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(Number(limited.headers['ratelimit-reset'])).toBeGreaterThan(0);
      // Another caller has their own budget; callers without a valid token are counted by address.
      const other = await one.client.request('GET', '/v1/providers', { token: await t.token({ sub: `other-${randomUUID()}`, roles: ['admin'] }) });
      expect(other.status).toBe(200);
      const anonymous = await one.client.request('GET', '/v1/providers');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['ratelimit-limit']).toBe('3');
    });

    it('keeps limiting per instance when Redis is unreachable, and stays ready', async () => {
      const degraded = await t.startGateway({ RATE_LIMIT_PER_MINUTE: '2', REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      const token = await t.token({ sub: `no-redis-${randomUUID()}`, roles: ['admin'] });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await degraded.client.request('GET', '/v1/providers', { token })).status);
      expect(statuses).toEqual([200, 200, 429]);
      const ready = await degraded.client.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('degraded');
      expect(ready.body.details.redis).toMatchObject({ status: 'degraded', impact: 'rate limits are counted per instance until Redis is back' });
      expect(ready.body.details.postgres.status).toBe('up');
      expect(ready.body.detail).toMatch(/^degraded: redis \(redis /);
    });

    it('reports Redis and scheduling in readiness when they are up, and nothing of Kafka, which the gateway does not use', async () => {
      const ready = await t.gateway.request('GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', details: { postgres: { status: 'up' }, scheduling: { status: 'up' }, redis: { status: 'up' } } });
      expect(ready.body.details.kafka).toBeUndefined();
    });

    it('is not ready while scheduling does not answer, and names it', async () => {
      const orphan = await t.startGateway({ SCHEDULING_URL: `http://127.0.0.1:${await freePort()}` });
      const ready = await orphan.client.request('GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(Object.keys(ready.body.error)).toEqual(['scheduling']);
      expect(ready.body.detail).toMatch(/^not ready: scheduling \(scheduling does not answer at http:\/\/127\.0\.0\.1:\d+: /);
      expect((await orphan.client.request('GET', '/health/live')).status).toBe(200);
      expect((await orphan.client.request('GET', '/health/started')).status).toBe(200);
    });
  });

  describe('AsyncAPI', () => {
    it('serves the events as an AsyncAPI 3 document and as a page, without a token', async () => {
      const json = await t.gateway.request('GET', '/asyncapi.json');
      expect(json.status).toBe(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      expect(json.body.asyncapi).toBe('3.0.0');
      expect(Object.values(json.body.channels as Record<string, { address: string }>).map((c) => c.address)).toContain(TOPICS.payment);
      const page = await t.gateway.request('GET', '/asyncapi');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('<h3>PaymentSucceeded</h3>');
    });
  });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3 document of every /v1 operation, with bearer auth, schemas and problem+json errors', async () => {
      const res = await t.gateway.request('GET', '/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      const operations = Object.entries(doc.paths as Record<string, Record<string, any>>)
        .filter(([path]) => path.startsWith('/v1/'))
        .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })));
      expect(operations.map((o) => o.id).sort()).toEqual(
        [
          'GET /v1/providers',
          'POST /v1/providers',
          'GET /v1/providers/{providerId}',
          'PATCH /v1/providers/{providerId}',
          'DELETE /v1/providers/{providerId}',
          'GET /v1/providers/{providerId}/slots',
          'GET /v1/providers/{providerId}/blocked-times',
          'POST /v1/providers/{providerId}/blocked-times',
          'DELETE /v1/providers/{providerId}/blocked-times/{blockedTimeId}',
          'POST /v1/appointments',
          'GET /v1/appointments',
          'GET /v1/appointments/{appointmentId}',
          'GET /v1/appointments/{appointmentId}/events',
          'POST /v1/appointments/{appointmentId}/cancel',
          'POST /v1/appointments/{appointmentId}/reschedule',
          'POST /v1/appointments/{appointmentId}/complete',
          'POST /v1/appointments/{appointmentId}/no-show',
          'POST /v1/admin/projections/rebuild',
        ].sort(),
      );
      for (const { id, op } of operations) {
        expect({ id, security: op.security }).toEqual({ id, security: [{ bearer: [] }] });
        for (const status of ['401', '429', '503']) expect({ id, status, type: Object.keys(op.responses[status]?.content ?? {}) }).toEqual({ id, status, type: ['application/problem+json'] });
        const success = Object.keys(op.responses).find((s) => s.startsWith('2'));
        expect({ id, success: Boolean(success) }).toEqual({ id, success: true });
        if (id.startsWith('POST')) {
          expect({ id, idempotencyKey: op.parameters.some((p: any) => p.in === 'header' && p.name === 'Idempotency-Key') }).toEqual({ id, idempotencyKey: true });
          expect({ id, body: Boolean(op.requestBody?.content?.['application/json']?.schema) }).toEqual({ id, body: true });
        }
      }
      const book = doc.paths['/v1/appointments'].post;
      expect(book.requestBody.content['application/json'].schema).toMatchObject({
        type: 'object',
        required: expect.arrayContaining(['providerId', 'clientId', 'start', 'client']),
        additionalProperties: false,
      });
      // OpenAPI 3.0 knows no tuples: `items` is always one schema.
      const tupleItems: string[] = [];
      const walk = (node: unknown, at: string): void => {
        if (!node || typeof node !== 'object') return;
        for (const [key, value] of Object.entries(node)) {
          if (key === 'items' && Array.isArray(value)) tupleItems.push(at);
          walk(value, `${at}/${key}`);
        }
      };
      walk(doc, '');
      expect(tupleItems).toEqual([]);
      // Each error response lists its problem codes as an enum, one line of meaning each (PROBLEM_CODES).
      const conflict = book.responses['409'].content['application/problem+json'].schema.properties.code;
      expect(conflict.enum).toEqual(expect.arrayContaining(['SLOT_UNAVAILABLE', 'IDEMPOTENCY_KEY_IN_USE']));
      expect(conflict.enum).not.toContain('VALIDATION_FAILED');
      expect(conflict.description).toContain(`- \`SLOT_UNAVAILABLE\`: ${PROBLEM_CODES.SLOT_UNAVAILABLE.meaning}`);
      expect(conflict['x-enum-descriptions']).toEqual(conflict.enum.map((code: keyof typeof PROBLEM_CODES) => PROBLEM_CODES[code].meaning));
      const unavailable = book.responses['503'].content['application/problem+json'].schema.properties.code.enum;
      expect(unavailable).toEqual(expect.arrayContaining(['OVERLOADED', 'SCHEDULING_UNAVAILABLE']));
      expect(unavailable).not.toContain('PROVIDER_CHANGING'); // scheduling's 5xx are not passed on
      const listed = new Set(operations.flatMap(({ op }) => Object.values(op.responses as Record<string, any>).flatMap((r) => r.content?.['application/problem+json']?.schema.properties.code.enum ?? [])));
      expect(listed).toEqual(new Set(Object.keys(PROBLEM_CODES).filter((code) => code !== 'NOT_THIS_APPOINTMENTS_REQUEST' && !['PROVIDER_CHANGING', 'CHANGE_FEED_UNAVAILABLE', 'REQUEST_TIMEOUT', 'URI_TOO_LONG', 'HEADERS_TOO_LARGE', 'METHOD_NOT_ALLOWED'].includes(code))));
      const slotParams = doc.paths['/v1/providers/{providerId}/slots'].get.parameters.map((p: any) => `${p.in}:${p.name}`);
      expect(slotParams).toEqual(expect.arrayContaining(['path:providerId', 'query:date', 'query:from', 'query:to', 'query:timeZone']));
    });

    it('serves the interactive documentation page', async () => {
      const res = await t.gateway.request('GET', '/docs');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.text).toContain('swagger-ui');
      const init = await t.gateway.request('GET', '/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.text).toContain('/v1/appointments');
    });
  });

  describe('slot answers', () => {
    it('carry scheduling\'s strong ETag, answer If-None-Match with 304, and follow a booking made elsewhere', async () => {
      const own = (await t.gateway.request('POST', '/v1/providers', { token: admin, body: roundTheClockProvider() })).body.id;
      const date = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
      const path = `/v1/providers/${own}/slots?date=${date}&timeZone=UTC`;
      const first = await t.gateway.request('GET', path, { token: admin });
      const second = await t.gateway.request('GET', path, { token: admin });
      expect(first.status).toBe(200);
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(second.headers.etag).toBe(etag);
      expect(second.text).toBe(first.text);
      expect(first.headers['cache-control']).toBe('private, no-cache');
      expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(first.body.slots).toHaveLength(48);

      const notModified = await t.gateway.request('GET', path, { token: admin, headers: { 'if-none-match': etag } });
      expect(notModified.status).toBe(304);
      expect(notModified.text).toBe('');
      expect(notModified.headers.etag).toBe(etag);

      // Booked straight through scheduling (as through any other gateway): this gateway's answer has it
      // as soon as the change feed has named the provider (bounded here at 2 s; milliseconds in practice).
      const taken = first.body.slots[3].start;
      expect((await t.direct.request('POST', '/appointments', { body: { providerId: own, clientId: 'client-x', start: taken, client: { timeZone: 'UTC' } } })).status).toBe(201);
      const after = await eventually(
        async () => {
          const answer = await t.gateway.request('GET', path, { token: admin, headers: { 'if-none-match': etag } });
          return answer.status === 200 && answer;
        },
        2000,
        'the booking in the gateway\'s answer',
      );
      expect(after.headers.etag).not.toBe(etag);
      expect(after.body.slots).toHaveLength(47);
      expect(after.body.slots.map((s: { start: string }) => s.start)).not.toContain(taken);
      // Booked through this gateway: gone from its very next answer, feed or no feed.
      const mine = after.body.slots[5].start;
      const booked = await t.gateway.request('POST', '/v1/appointments', { token: admin, body: { providerId: own, clientId: 'client-y', start: mine, client: { timeZone: 'UTC' } } });
      expect(booked.status).toBe(201);
      const next = await t.gateway.request('GET', path, { token: admin });
      expect(next.body.slots).toHaveLength(46);
      expect(next.body.slots.map((s: { start: string }) => s.start)).not.toContain(mine);
      // Another gateway instance answers the same bytes under the same tag.
      const other = await t.startGateway();
      try {
        const elsewhere = await other.client.request('GET', path, { token: admin });
        expect(elsewhere.headers.etag).toBe(next.headers.etag);
        expect(elsewhere.text).toBe(next.text);
      } finally {
        await other.close();
      }
    });
  });

  describe('errors are problem+json', () => {
    const expectProblem = (res: { status: number; headers: Record<string, unknown>; body: any }, status: number, code: string) => {
      expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ type: expect.stringContaining('https://'), title: expect.any(String), detail: expect.any(String) });
    };

    it('for bad input, with the path of each bad field', async () => {
      const res = await t.gateway.request('POST', '/v1/appointments', {
        token: admin,
        body: { providerId: 'nope', clientId: '', start: 'tomorrow', client: { timeZone: 'Asia/Tokyo', phone: '123' }, colour: 'blue' },
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['body.providerId', 'body.clientId', 'body.start', 'body.client.phone', 'body']));
      expectProblem(await t.gateway.request('GET', '/v1/providers/not-a-uuid', { token: admin }), 400, 'INVALID_ID');
      expectProblem(await t.gateway.request('GET', `/v1/providers/${providerId}/slots?date=2030-02-30x`, { token: admin }), 400, 'VALIDATION_FAILED');
      expectProblem(await t.gateway.request('GET', '/v1/appointments?limit=0', { token: admin }), 400, 'VALIDATION_FAILED');
    });

    it('passes scheduling\'s refusals through with their status, code and detail', async () => {
      const offGrid = await t.gateway.request('POST', '/v1/appointments', {
        token: admin,
        body: { providerId, clientId: 'client-ada', start: '2031-01-01T00:10:00Z', client: { timeZone: 'Asia/Tokyo' } },
      });
      expectProblem(offGrid, 422, 'SLOT_NOT_ON_GRID');
      const badZone = await t.gateway.request('GET', `/v1/providers/${providerId}/slots?date=2031-01-01&timeZone=Mars/Olympus_Mons`, { token: admin });
      expectProblem(badZone, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(badZone.body.errors)).toContain('zone');
      expectProblem(await t.gateway.request('GET', `/v1/providers/${randomUUID()}`, { token: admin }), 404, 'PROVIDER_NOT_FOUND');
    });

    it('for unknown routes, malformed JSON, other content types and oversized bodies', async () => {
      expectProblem(await t.gateway.request('GET', '/v2/providers', { token: admin }), 404, 'NOT_FOUND');
      // A path that exists under other methods: 405 naming them, not 404.
      const put = await t.gateway.request('PUT', `/v1/providers/${randomUUID()}`, { token: admin, body: { name: 'x' } });
      expectProblem(put, 405, 'METHOD_NOT_ALLOWED');
      expect(put.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
      const getCancel = await t.gateway.request('GET', `/v1/appointments/${randomUUID()}/cancel`, { token: admin });
      expectProblem(getCancel, 405, 'METHOD_NOT_ALLOWED');
      expect(getCancel.headers.allow).toBe('POST');
      expectProblem(
        await t.gateway.request('POST', '/v1/appointments', { token: admin, rawBody: '{"providerId": ', headers: { 'content-type': 'application/json' } }),
        400,
        'MALFORMED_JSON',
      );
      expectProblem(
        await t.gateway.request('POST', `/v1/appointments/${randomUUID()}/cancel`, { token: admin, rawBody: 'cancel it', headers: { 'content-type': 'text/plain' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectProblem(await t.gateway.request('POST', '/v1/providers', { token: admin, body: roundTheClockProvider({ name: 'x'.repeat(100_000) }) }), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('for requests Node refuses before routing (oversized headers)', async () => {
      const { port } = new URL(t.gateway.url);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET /v1/providers?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 431 /);
      expect(raw).toContain('Content-Type: application/problem+json');
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
    });
  });

  describe('when scheduling misbehaves', () => {
    let fake: Server;
    let behaviour: (req: IncomingMessage, res: ServerResponse) => void;
    // The change feed (GET /availability/changes) answers apart: closed unless a test opens it. The
    // gateway's reachability probe (GET /health/live) is answered apart too: this scheduling is alive.
    const notFound = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(404).end();
    let feedBehaviour: (req: IncomingMessage, res: ServerResponse) => void = notFound;
    let client: HttpTestClient;
    let feed: SchedulingChangeFeed;

    beforeAll(async () => {
      fake = createServer((req, res) =>
        req.url === '/health/live' ? res.writeHead(200).end() : req.url === '/availability/changes' ? feedBehaviour(req, res) : behaviour(req, res),
      );
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      const gateway = await t.startGateway({ SCHEDULING_URL: `http://127.0.0.1:${(fake.address() as { port: number }).port}`, SCHEDULING_TIMEOUT_MS: '300' });
      client = gateway.client;
      feed = gateway.app.get(SchedulingChangeFeed);
    });
    afterAll(async () => {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    });

    /** A one-slot answer on `date` in the shape scheduling gives (Tokyo provider, UTC client). */
    const slotAnswer = (date: string) => ({
      providerId,
      timeZone: 'UTC',
      providerTimeZone: 'Asia/Tokyo',
      slotDurationMinutes: 30,
      from: date,
      to: date,
      slots: [{ start: `${date}T00:00:00.000Z`, end: `${date}T00:30:00.000Z`, local: { timeZone: 'UTC', start: `${date}T00:00:00.000Z`, end: `${date}T00:30:00.000Z`, date } }],
    });
    const json = (status: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

    it('answers 504 when it does not answer in time', async () => {
      behaviour = () => undefined;
      const res = await client.request('GET', '/v1/providers', { token: admin });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 504, code: 'SCHEDULING_TIMEOUT' });
    });

    it('answers 502 when its reply breaks the promised schema, or it fails', async () => {
      behaviour = json(200, { items: [{ id: 'not-a-uuid' }], nextCursor: null });
      const violation = await client.request('GET', '/v1/providers', { token: admin });
      expect({ status: violation.status, code: violation.body.code }).toEqual({ status: 502, code: 'UPSTREAM_CONTRACT_VIOLATION' });
      behaviour = json(500, { code: 'INTERNAL', detail: 'boom', status: 500 });
      const failed = await client.request('GET', '/v1/providers', { token: admin });
      expect({ status: failed.status, code: failed.body.code }).toEqual({ status: 502, code: 'SCHEDULING_FAILED' });
      expect(failed.headers['content-type']).toContain('application/problem+json');
    });

    it('releases an Idempotency-Key when no answer came, so the retry runs', async () => {
      const path = `/v1/providers/${providerId}/blocked-times`;
      const body = { start: '2031-02-01T00:00:00Z', end: '2031-02-02T00:00:00Z', reason: 'VACATION' };
      behaviour = json(500, { code: 'INTERNAL', detail: 'boom', status: 500 });
      expect((await client.request('POST', path, { token: admin, body, headers: { 'idempotency-key': 'released-1' } })).status).toBe(502);
      expect(await t.db.withSchema('gateway').table('idempotency_keys').where({ key: 'released-1' })).toEqual([]);
      behaviour = json(201, { id: randomUUID(), providerId, ...body, start: '2031-02-01T00:00:00.000Z', end: '2031-02-02T00:00:00.000Z', note: null });
      const retry = await client.request('POST', path, { token: admin, body, headers: { 'idempotency-key': 'released-1' } });
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    });

    it('sends the slot bytes it checked again on a 304, keeps no answer without a strong tag, and forgets one on an error', async () => {
      const slotsPath = `/v1/providers/${providerId}/slots?date=2031-03-03&timeZone=UTC`;
      const answer = slotAnswer('2031-03-03');
      const seen: (string | undefined)[] = [];
      const upstream = (etag: string | undefined) => (req: IncomingMessage, res: ServerResponse) => {
        const sent = req.headers['if-none-match'];
        seen.push(sent);
        if (etag && sent === etag) return res.writeHead(304, { etag }).end();
        res.writeHead(200, { 'content-type': 'application/json', ...(etag && { etag }) }).end(JSON.stringify(answer));
      };
      behaviour = upstream('"v1"');
      const first = await client.request('GET', slotsPath, { token: admin });
      const again = await client.request('GET', slotsPath, { token: admin });
      expect([first.status, again.status]).toEqual([200, 200]);
      expect(again.text).toBe(JSON.stringify(answer));
      expect(again.headers.etag).toBe('"v1"');
      expect(seen).toEqual([undefined, '"v1"']);

      // A failure forgets the kept answer: the next request asks afresh.
      behaviour = json(500, { code: 'INTERNAL', detail: 'boom', status: 500 });
      expect((await client.request('GET', slotsPath, { token: admin })).status).toBe(502);
      behaviour = upstream(undefined);
      seen.length = 0;
      const untagged = await client.request('GET', slotsPath, { token: admin });
      expect(untagged.status).toBe(200);
      expect(untagged.headers.etag).toBeUndefined();
      expect((await client.request('GET', slotsPath, { token: admin })).status).toBe(200);
      expect(seen).toEqual([undefined, undefined]);

      // A 304 nobody asked for is not an answer.
      behaviour = (_req, res) => res.writeHead(304, { etag: '"v2"' }).end();
      expect((await client.request('GET', slotsPath, { token: admin })).status).toBe(502);
    });

    it('sends a kept slot answer again without asking while the change feed names no change of its provider', async () => {
      const slotsPath = `/v1/providers/${providerId}/slots?date=2031-04-04&timeZone=UTC`;
      const answer = slotAnswer('2031-04-04');
      const asked: (string | undefined)[] = [];
      const verified: (string | undefined)[] = [];
      let freshFor: string | undefined = '60000';
      behaviour = (req, res) => {
        if (req.method !== 'GET') {
          // A write through the gateway (a blocked time) that names the provider.
          return res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: randomUUID(), providerId, start: '2031-05-01T00:00:00.000Z', end: '2031-05-02T00:00:00.000Z', reason: 'VACATION', note: null }));
        }
        asked.push(req.headers['if-none-match']);
        verified.push(req.headers['cache-control']);
        const headers = { etag: '"v1"', ...(freshFor !== undefined && { 'availability-fresh-for': freshFor }) };
        if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304, headers).end();
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer));
      };
      let stream: ServerResponse | undefined;
      feedBehaviour = (_req, res) => {
        stream = res;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: ready\ndata:\n\n');
      };
      const announce = (id: string) => stream?.write(`event: changed\ndata: ${id}\n\n`);
      const get = async () => {
        const res = await client.request('GET', slotsPath, { token: admin });
        expect(res.status).toBe(200);
        expect(res.text).toBe(JSON.stringify(answer));
        expect(res.headers.etag).toBe('"v1"');
      };
      try {
        await eventually(async () => feed.isOpen(), 5000, 'the feed open');
        await get();
        await get();
        await get();
        expect(asked).toEqual([undefined]);
        // Another provider's change leaves this answer alone; this provider's makes the gateway ask.
        announce(randomUUID());
        announce(providerId.toUpperCase());
        await eventually(async () => {
          await get();
          return asked.length === 2;
        }, 2000, 'the change heard');
        expect(asked).toEqual([undefined, '"v1"']);
        await get();
        expect(asked).toHaveLength(2);

        // A write through this gateway that names the provider counts at once.
        expect((await client.request('POST', `/v1/providers/${providerId}/blocked-times`, { token: admin, body: { start: '2031-05-01T00:00:00Z', end: '2031-05-02T00:00:00Z', reason: 'VACATION' } })).status).toBe(201);
        await get();
        expect(asked).toHaveLength(3);

        // No Availability-Fresh-For: asked every time.
        freshFor = undefined;
        announce(providerId);
        await eventually(async () => {
          await get();
          return asked.length === 4;
        }, 2000, 'the change heard');
        await get();
        await get();
        expect(asked).toHaveLength(6);
        freshFor = '60000';
        await get();
        await get();
        expect(asked).toHaveLength(7);

        // The feed ends: nothing is trusted any more, every request asks.
        feedBehaviour = notFound;
        stream?.end();
        await eventually(async () => !feed.isOpen(), 2000, 'the feed closed');
        await get();
        await get();
        expect(asked).toHaveLength(9);
        // Asked with no-cache (the instance asked may not have heard of the change yet) while the feed
        // was open to vouch for the answer; plainly once it was closed.
        expect(verified).toEqual([...Array(7).fill('no-cache'), undefined, undefined]);
      } finally {
        feedBehaviour = notFound;
        stream?.end();
      }
    });

    it('answers 503 when it cannot be reached', async () => {
      const down = await t.startGateway({ SCHEDULING_URL: `http://127.0.0.1:${await freePort()}` });
      const res = await down.client.request('GET', `/v1/providers/${providerId}`, { token: admin });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'SCHEDULING_UNAVAILABLE' });
      expect(res.headers['content-type']).toContain('application/problem+json');
    });
  });
});
