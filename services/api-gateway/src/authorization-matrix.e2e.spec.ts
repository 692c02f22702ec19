import { randomUUID } from 'node:crypto';
import { GatewayStack, Reply, roundTheClockProvider, rowCounts, slotSequence, startGatewayStack } from './testing/gateway-stack';

/**
 * Every /v1 endpoint × every kind of caller × their own and someone else's resource, through the
 * real gateway, the real scheduling service, Postgres and Kafka. "Own" is the caller's resource
 * (a provider's record and appointments, a client's appointments); "other" belongs to another
 * provider and another client. A refused request must change no row. The full matrix is printed.
 */

const ROLES = ['anonymous', 'bad-signature', 'expired', 'client', 'provider', 'admin', 'service'] as const;
type Role = (typeof ROLES)[number];
type Target = 'own' | 'other';

type World = {
  ownProvider: string;
  otherProvider: string;
  ownClient: string;
  otherClient: string;
  ownAppointment: string;
  otherAppointment: string;
  ownBlocked: string;
  otherBlocked: string;
};

type Request = { method: string; path: string; body?: unknown };
type Expectation = { client: [number, number]; provider: [number, number]; operator: [number, number] };
type Row = {
  endpoint: string;
  /** Fresh resources for each cell, when the request consumes them (deletes, cancels, new records). */
  prepare?: () => Promise<Partial<World>>;
  request: (w: World, target: Target) => Request;
  expected: Expectation;
  /** Further checks on an allowed answer. */
  check?: (reply: Reply, role: Role, w: World) => void;
};

const all = (status: number): Expectation => ({ client: [status, status], provider: [status, status], operator: [status, status] });

describe('authorization matrix (e2e)', () => {
  let t: GatewayStack;
  let world: World;
  const nextSlot = slotSequence();
  const farDay = new Date(Date.now() + 300 * 86_400_000).toISOString().slice(0, 10);
  const results = new Map<string, Map<string, string>>();

  const createProvider = async (id: string = randomUUID()) => {
    const res = await t.direct.request('POST', '/providers', { body: roundTheClockProvider({ id }) });
    expect(res.status).toBe(201);
    return id;
  };
  const book = async (providerId: string, clientId: string) => {
    const res = await t.direct.request('POST', '/appointments', { body: { providerId, clientId, start: nextSlot(), client: { timeZone: 'Europe/Berlin' } } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const block = async (providerId: string) => {
    const res = await t.direct.request('POST', `/providers/${providerId}/blocked-times`, {
      body: { start: `${farDay}T10:00:00Z`, end: `${farDay}T11:00:00Z`, reason: 'BREAK' },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  beforeAll(async () => {
    t = await startGatewayStack({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    const [ownProvider, otherProvider] = [await createProvider(), await createProvider()];
    const [ownClient, otherClient] = ['client-ada', 'client-bob'];
    world = {
      ownProvider,
      otherProvider,
      ownClient,
      otherClient,
      ownAppointment: await book(ownProvider, ownClient),
      otherAppointment: await book(otherProvider, otherClient),
      ownBlocked: await block(ownProvider),
      otherBlocked: await block(otherProvider),
    };
  });

  afterAll(async () => {
    printMatrix(results);
    await t?.close();
  });

  const pick = (w: World, target: Target, own: keyof World, other: keyof World) => (target === 'own' ? w[own] : w[other]);
  const freshAppointments = async () => ({
    ownAppointment: await book(world.ownProvider, world.ownClient),
    otherAppointment: await book(world.otherProvider, world.otherClient),
  });

  const rows: Row[] = [
    { endpoint: 'GET /v1/providers', request: () => ({ method: 'GET', path: '/v1/providers' }), expected: all(200) },
    {
      endpoint: 'POST /v1/providers',
      // A provider's "own" record is the one named by their token's provider_id, not created yet.
      prepare: async () => ({ ownProvider: randomUUID(), otherProvider: randomUUID() }),
      request: (w, target) => ({ method: 'POST', path: '/v1/providers', body: roundTheClockProvider({ id: pick(w, target, 'ownProvider', 'otherProvider') }) }),
      expected: { client: [403, 403], provider: [201, 403], operator: [201, 201] },
    },
    { endpoint: 'GET /v1/providers/:id', request: (w, t) => ({ method: 'GET', path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}` }), expected: all(200) },
    {
      endpoint: 'PATCH /v1/providers/:id',
      request: (w, t) => ({ method: 'PATCH', path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}`, body: { minimumNoticeMinutes: 0 } }),
      expected: { client: [403, 403], provider: [200, 403], operator: [200, 200] },
    },
    {
      endpoint: 'DELETE /v1/providers/:id',
      prepare: async () => ({ ownProvider: await createProvider(), otherProvider: await createProvider() }),
      request: (w, t) => ({ method: 'DELETE', path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}` }),
      expected: { client: [403, 403], provider: [204, 403], operator: [204, 204] },
    },
    {
      endpoint: 'GET /v1/providers/:id/slots',
      request: (w, t) => ({ method: 'GET', path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}/slots?date=${farDay}&timeZone=America/New_York` }),
      expected: all(200),
    },
    {
      endpoint: 'GET /v1/providers/:id/blocked-times',
      request: (w, t) => ({ method: 'GET', path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}/blocked-times` }),
      expected: { client: [403, 403], provider: [200, 403], operator: [200, 200] },
    },
    {
      endpoint: 'POST /v1/providers/:id/blocked-times',
      request: (w, t) => ({
        method: 'POST',
        path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}/blocked-times`,
        body: { start: `${farDay}T12:00:00Z`, end: `${farDay}T13:00:00Z`, reason: 'PERSONAL' },
      }),
      expected: { client: [403, 403], provider: [201, 403], operator: [201, 201] },
    },
    {
      endpoint: 'DELETE /v1/providers/:id/blocked-times/:bid',
      prepare: async () => ({ ownBlocked: await block(world.ownProvider), otherBlocked: await block(world.otherProvider) }),
      request: (w, t) => ({
        method: 'DELETE',
        path: `/v1/providers/${pick(w, t, 'ownProvider', 'otherProvider')}/blocked-times/${pick(w, t, 'ownBlocked', 'otherBlocked')}`,
      }),
      expected: { client: [403, 403], provider: [204, 403], operator: [204, 204] },
    },
    {
      endpoint: 'POST /v1/appointments',
      request: (w, t) => ({
        method: 'POST',
        path: '/v1/appointments',
        body: {
          providerId: pick(w, t, 'ownProvider', 'otherProvider'),
          clientId: pick(w, t, 'ownClient', 'otherClient'),
          start: nextSlot(),
          client: { timeZone: 'Asia/Tokyo' },
        },
      }),
      expected: { client: [201, 403], provider: [403, 403], operator: [201, 201] },
    },
    {
      endpoint: 'GET /v1/appointments',
      request: (w, t) => ({ method: 'GET', path: t === 'own' ? '/v1/appointments' : `/v1/appointments?clientId=${w.otherClient}&providerId=${w.otherProvider}` }),
      expected: { client: [200, 403], provider: [200, 403], operator: [200, 200] },
      check: (reply, role, w) => {
        const items = reply.body.items as { clientId: string; providerId: string }[];
        expect(items.length).toBeGreaterThan(0);
        if (role === 'client') expect(items.every((a) => a.clientId === w.ownClient)).toBe(true);
        if (role === 'provider') expect(items.every((a) => a.providerId === w.ownProvider)).toBe(true);
      },
    },
    {
      endpoint: 'GET /v1/appointments/:id',
      request: (w, t) => ({ method: 'GET', path: `/v1/appointments/${pick(w, t, 'ownAppointment', 'otherAppointment')}` }),
      expected: { client: [200, 404], provider: [200, 404], operator: [200, 200] },
    },
    {
      endpoint: 'GET /v1/appointments/:id/events',
      request: (w, t) => ({ method: 'GET', path: `/v1/appointments/${pick(w, t, 'ownAppointment', 'otherAppointment')}/events` }),
      expected: { client: [200, 404], provider: [200, 404], operator: [200, 200] },
    },
    {
      endpoint: 'POST /v1/appointments/:id/cancel',
      prepare: freshAppointments,
      request: (w, t) => ({ method: 'POST', path: `/v1/appointments/${pick(w, t, 'ownAppointment', 'otherAppointment')}/cancel` }),
      expected: { client: [200, 404], provider: [200, 404], operator: [200, 200] },
      check: (reply, role) => expect(reply.body.cancellation.by).toBe(role === 'client' ? 'CLIENT' : 'PROVIDER'),
    },
    {
      endpoint: 'POST /v1/appointments/:id/reschedule',
      prepare: freshAppointments,
      request: (w, t) => ({ method: 'POST', path: `/v1/appointments/${pick(w, t, 'ownAppointment', 'otherAppointment')}/reschedule`, body: { start: nextSlot() } }),
      expected: { client: [200, 404], provider: [200, 404], operator: [200, 200] },
    },
    // The appointments are in the future, so an allowed caller reaches scheduling and gets 409 NOT_STARTED_YET.
    {
      endpoint: 'POST /v1/appointments/:id/complete',
      request: (w, t) => ({ method: 'POST', path: `/v1/appointments/${pick(w, t, 'ownAppointment', 'otherAppointment')}/complete` }),
      expected: { client: [403, 404], provider: [409, 404], operator: [409, 409] },
      check: (reply) => expect(reply.body.code).toBe('NOT_STARTED_YET'),
    },
    {
      endpoint: 'POST /v1/appointments/:id/no-show',
      request: (w, t) => ({ method: 'POST', path: `/v1/appointments/${pick(w, t, 'ownAppointment', 'otherAppointment')}/no-show` }),
      expected: { client: [403, 404], provider: [409, 404], operator: [409, 409] },
      check: (reply) => expect(reply.body.code).toBe('NOT_STARTED_YET'),
    },
    {
      endpoint: 'POST /v1/admin/projections/rebuild',
      request: () => ({ method: 'POST', path: '/v1/admin/projections/rebuild' }),
      expected: { client: [403, 403], provider: [403, 403], operator: [200, 200] },
      check: (reply) => expect(reply.body.streams).toBeGreaterThan(0),
    },
  ];

  async function tokenFor(role: Role, w: World): Promise<string | undefined> {
    switch (role) {
      case 'anonymous':
        return undefined;
      case 'bad-signature':
        return t.token({ sub: 'mallory', roles: ['admin'] }, { secret: 'not-the-gateway-secret-but-long-enough-0123456789' });
      case 'expired':
        return t.token({ sub: 'late-admin', roles: ['admin'] }, { expiresIn: Math.floor(Date.now() / 1000) - 120 });
      case 'client':
        return t.token({ sub: 'user-ada', roles: ['client'], client_id: w.ownClient });
      case 'provider':
        return t.token({ sub: 'user-doc', roles: ['provider'], provider_id: w.ownProvider });
      case 'admin':
        return t.token({ sub: 'ops-admin', roles: ['admin'] });
      case 'service':
        return t.token({ sub: 'svc-reporting', roles: ['service'] });
    }
  }

  function expectedStatus(row: Row, role: Role, target: Target): number {
    const index = target === 'own' ? 0 : 1;
    switch (role) {
      case 'anonymous':
      case 'bad-signature':
      case 'expired':
        return 401;
      case 'client':
        return row.expected.client[index];
      case 'provider':
        return row.expected.provider[index];
      case 'admin':
      case 'service':
        return row.expected.operator[index];
    }
  }

  describe.each(rows)('$endpoint', (row) => {
    const cells = ROLES.flatMap((role) => (['own', 'other'] as const).map((target) => ({ role, target, status: expectedStatus(row, role, target) })));
    it.each(cells)('$role on $target → $status', async ({ role, target, status }) => {
      const w = { ...world, ...(await row.prepare?.()) };
      const request = row.request(w, target);
      const before = status >= 400 ? await rowCounts(t.db) : undefined;
      const reply = await t.gateway.request(request.method, request.path, { body: request.body, token: await tokenFor(role, w) });
      const cellsOfRow = results.get(row.endpoint) ?? new Map<string, string>();
      cellsOfRow.set(`${role}/${target}`, reply.status === status ? String(reply.status) : `${reply.status}!`);
      results.set(row.endpoint, cellsOfRow);
      expect({ status: reply.status, body: reply.status === status ? 'as expected' : reply.body }).toEqual({ status, body: 'as expected' });
      if (status >= 400) {
        expect(reply.headers['content-type']).toContain('application/problem+json');
        expect(await rowCounts(t.db)).toEqual(before);
      }
      if (status === 401) expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
      if (status === 404) {
        // Not yours reads exactly like does not exist.
        const missing = await t.gateway.request(request.method, request.path.replace(/\/appointments\/[0-9a-f-]{36}/, `/appointments/${randomUUID()}`), {
          body: request.body,
          token: await tokenFor('admin', w),
        });
        expect(missing.status).toBe(404);
        expect({ code: reply.body.code, detail: reply.body.detail.replace(/[0-9a-f-]{36}/, 'ID') }).toEqual({
          code: missing.body.code,
          detail: missing.body.detail.replace(/[0-9a-f-]{36}/, 'ID'),
        });
      }
      if (row.check && reply.status === status && (status < 400 || status === 409)) row.check(reply, role, w);
    });
  });
});

function printMatrix(results: Map<string, Map<string, string>>): void {
  if (results.size === 0) return;
  const roles = ROLES as readonly string[];
  const width = Math.max(...[...results.keys()].map((k) => k.length));
  const header = `${'endpoint'.padEnd(width)} | ${roles.map((r) => r.padEnd(13)).join(' | ')}`;
  const sub = `${''.padEnd(width)} | ${roles.map(() => 'own    other ').join(' | ')}`;
  const lines = [...results.entries()].map(
    ([endpoint, cells]) => `${endpoint.padEnd(width)} | ${roles.map((r) => `${(cells.get(`${r}/own`) ?? '-').padEnd(6)} ${(cells.get(`${r}/other`) ?? '-').padEnd(6)}`).join(' | ')}`,
  );
  process.stdout.write(`\nAuthorization matrix (status per caller and target; ! marks a mismatch)\n${header}\n${sub}\n${lines.join('\n')}\n\n`);
}
