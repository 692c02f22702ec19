import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { requestFingerprint } from './idempotency/idempotency-key';
import { GatewayStack, roundTheClockProvider, rowCounts, slotSequence, startGatewayStack } from './testing/gateway-stack';

/**
 * Idempotency-Key through the gateway: the booking key lives in scheduling's booking transaction;
 * every other POST's key lives in the gateway's own table. Replay, 422 on another body, 409 while
 * the first is in flight, and no second effect.
 */
describe('Idempotency-Key (e2e)', () => {
  let t: GatewayStack;
  let providerId: string;
  let admin: string;
  let ada: string;
  let bob: string;
  const nextSlot = slotSequence();

  beforeAll(async () => {
    t = await startGatewayStack({ env: { IDEMPOTENCY_LEASE_SECONDS: '30' } });
    admin = await t.token({ sub: 'ops-admin', roles: ['admin'] });
    ada = await t.token({ sub: 'user-ada', roles: ['client'], client_id: 'client-ada' });
    bob = await t.token({ sub: 'user-bob', roles: ['client'], client_id: 'client-bob' });
    const res = await t.gateway.request('POST', '/v1/providers', { token: admin, body: roundTheClockProvider() });
    expect(res.status).toBe(201);
    providerId = res.body.id;
  });
  afterAll(async () => t?.close());

  const bookingBody = (clientId: string, start: string) => ({ providerId, clientId, start, client: { timeZone: 'Asia/Tokyo', email: 'ada@example.com' } });
  const book = (token: string, clientId: string, start: string, key?: string) =>
    t.gateway.request('POST', '/v1/appointments', { token, body: bookingBody(clientId, start), headers: key ? { 'idempotency-key': key } : {} });
  const bookDirect = async (clientId: string) => {
    const res = await t.direct.request('POST', '/appointments', { body: bookingBody(clientId, nextSlot()) });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const appointments = async () => Number((await t.db('appointments').count<{ count: string }[]>('* as count'))[0].count);
  const eventsOf = async (id: string) => Number((await t.db('events').where({ stream_id: id }).count<{ count: string }[]>('* as count'))[0].count);

  describe('booking (key recorded by scheduling, in the booking transaction)', () => {
    it('replays the first answer for a retry with the same key and body, booking once', async () => {
      const start = nextSlot();
      const before = await appointments();
      const first = await book(ada, 'client-ada', start, 'book-1');
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const retry = await book(ada, 'client-ada', start, 'book-1');
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      // Byte for byte, not merely equal JSON (a jsonb record would reorder the keys).
      expect(retry.text).toBe(first.text);
      expect(retry.headers.location).toBe(`/v1/appointments/${first.body.id}`);
      expect(await appointments()).toBe(before + 1);
      // Scheduling's own replay is its first answer's bytes too.
      const body = bookingBody('client-ada', nextSlot());
      const once = await t.direct.request('POST', '/appointments', { body, headers: { 'idempotency-key': 'direct-1' } });
      const twice = await t.direct.request('POST', '/appointments', { body, headers: { 'idempotency-key': 'direct-1' } });
      expect([once.status, twice.status, twice.headers['idempotent-replayed']]).toEqual([201, 201, 'true']);
      expect(twice.text).toBe(once.text);
    });

    it('refuses the same key with another body (422), booking nothing', async () => {
      const start = nextSlot();
      expect((await book(ada, 'client-ada', start, 'book-2')).status).toBe(201);
      const before = await rowCounts(t.db);
      const other = await book(ada, 'client-ada', nextSlot(), 'book-2');
      expect(other.status).toBe(422);
      expect(other.headers['content-type']).toContain('application/problem+json');
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await rowCounts(t.db)).toEqual(before);
    });

    it('answers 409 while the first request with the key is still running', async () => {
      // Scheduling holds a transaction-scoped advisory lock on (caller, key) while a booking runs;
      // holding it here stands in for a first request that has not finished.
      const lock = new Client({ connectionString: t.env.databaseUrl });
      await lock.connect();
      try {
        await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', ['user-ada\nbook-3']);
        const start = nextSlot();
        const busy = await book(ada, 'client-ada', start, 'book-3');
        expect(busy.status).toBe(409);
        expect(busy.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
        await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', ['user-ada\nbook-3']);
        expect((await book(ada, 'client-ada', start, 'book-3')).status).toBe(201);
      } finally {
        await lock.end();
      }
    });

    it('books once when ten retries with one key race each other', async () => {
      const start = nextSlot();
      const before = await appointments();
      const replies = await Promise.all(Array.from({ length: 10 }, () => book(ada, 'client-ada', start, 'book-race')));
      const ids = new Set(replies.filter((r) => r.status === 201).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(replies.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'IDEMPOTENCY_KEY_IN_USE'))).toBe(true);
      expect(await appointments()).toBe(before + 1);
    });

    it('scopes keys per caller: two callers may use the same key', async () => {
      const [a, b] = [await book(ada, 'client-ada', nextSlot(), 'shared-key'), await book(bob, 'client-bob', nextSlot(), 'shared-key')];
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.id).not.toBe(b.body.id);
    });

    it('gives a booking without a key one of its own, returned in the Idempotency-Key header, that replays it', async () => {
      const start = nextSlot();
      const first = await book(ada, 'client-ada', start);
      expect(first.status).toBe(201);
      const key = first.headers['idempotency-key'] as string;
      expect(key).toMatch(/^gw-[0-9a-f-]{36}$/);
      const again = await book(ada, 'client-ada', start, key);
      expect([again.status, again.headers['idempotent-replayed'], again.text]).toEqual([201, 'true', first.text]);
      // The client's own key is the one returned when it gives one.
      expect((await book(ada, 'client-ada', nextSlot(), 'own-key-1')).headers['idempotency-key']).toBe('own-key-1');
    });

    it('a booking answered 504 names its key in the header and the body, and repeating it with the key answers what happened', async () => {
      const start = nextSlot();
      const slow = await t.startGateway({ SCHEDULING_TIMEOUT_MS: '300' });
      // Hold the booking-hour lock the booking statement takes first, so scheduling cannot finish in time.
      const holder = await t.db.transaction();
      try {
        await holder.raw(`SELECT pg_advisory_xact_lock(hashtextextended('booking-hour:' || ?::text || ':' || floor(extract(epoch FROM ?::timestamptz) / 3600)::bigint, 0))`, [providerId, start]);
        const timedOut = await slow.client.request('POST', '/v1/appointments', { token: ada, body: bookingBody('client-ada', start) });
        expect({ status: timedOut.status, code: timedOut.body.code }).toEqual({ status: 504, code: 'SCHEDULING_TIMEOUT' });
        const key = timedOut.headers['idempotency-key'];
        expect(key).toMatch(/^gw-/);
        expect(timedOut.body.idempotencyKey).toBe(key);
        await holder.commit();
        // The booking went ahead once the lock was free: the key tells the client it did, and it books nothing more.
        let outcome = await book(ada, 'client-ada', start, key as string);
        for (let i = 0; outcome.status === 409 && outcome.body.code === 'IDEMPOTENCY_KEY_IN_USE' && i < 100; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          outcome = await book(ada, 'client-ada', start, key as string);
        }
        expect([outcome.status, outcome.headers['idempotent-replayed']]).toEqual([201, 'true']);
        expect(await t.db('appointments').where({ provider_id: providerId, start_time: new Date(start) }).whereIn('status', ['PENDING', 'CONFIRMED']).pluck('id')).toEqual([outcome.body.id]);
      } finally {
        if (!holder.isCompleted()) await holder.rollback();
        await slow.close();
      }
    });

    it('books without a key (optional), and refuses a malformed key with 400', async () => {
      expect((await book(ada, 'client-ada', nextSlot())).status).toBe(201);
      const bad = await book(ada, 'client-ada', nextSlot(), 'not a valid key!');
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('INVALID_IDEMPOTENCY_KEY');
    });
  });

  describe('other commands (key recorded by the gateway)', () => {
    const cancel = (token: string, id: string, key?: string, body?: unknown) =>
      t.gateway.request('POST', `/v1/appointments/${id}/cancel`, { token, body, headers: key ? { 'idempotency-key': key } : {} });

    it('replays a cancel with the same key: one cancellation event, the same answer', async () => {
      const id = await bookDirect('client-ada');
      const first = await cancel(ada, id, 'cancel-1');
      expect(first.status).toBe(200);
      expect(first.body.status).toBe('CANCELLED');
      const events = await eventsOf(id);
      const retry = await cancel(ada, id, 'cancel-1');
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.text).toBe(first.text);
      expect(await eventsOf(id)).toBe(events);
    });

    it('binds a key to its request: another body or another appointment is a 422', async () => {
      const [first, second] = [await bookDirect('client-ada'), await bookDirect('client-ada')];
      expect((await cancel(ada, first, 'cancel-2')).status).toBe(200);
      const elsewhere = await cancel(ada, second, 'cancel-2');
      expect(elsewhere.status).toBe(422);
      expect(elsewhere.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const reschedule = await t.gateway.request('POST', `/v1/appointments/${first}/reschedule`, {
        token: ada,
        body: { start: nextSlot() },
        headers: { 'idempotency-key': 'cancel-2' },
      });
      expect(reschedule.status).toBe(422);
      expect((await t.gateway.request('GET', `/v1/appointments/${second}`, { token: ada })).body.status).toBe('CONFIRMED');
    });

    it('answers 409 while the same key is in flight, and lets a retry take over an abandoned claim', async () => {
      const id = await bookDirect('client-ada');
      const path = `/v1/appointments/${id}/cancel`;
      // The first attempt: its claim is recorded, its answer is not (yet).
      await t.db.withSchema('gateway').table('idempotency_keys').insert({
        caller: 'user-ada',
        key: 'cancel-3',
        request_hash: requestFingerprint('POST', path, {}),
        state: 'IN_PROGRESS',
        claim_token: randomUUID(),
        locked_until: new Date(Date.now() + 60_000),
      });
      const busy = await cancel(ada, id, 'cancel-3');
      expect(busy.status).toBe(409);
      expect(busy.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      expect((await t.gateway.request('GET', `/v1/appointments/${id}`, { token: ada })).body.status).toBe('CONFIRMED');
      // Its instance died: once the lease is over, a retry runs the command and stores the answer.
      await t.db.withSchema('gateway').table('idempotency_keys').where({ caller: 'user-ada', key: 'cancel-3' }).update({ locked_until: new Date(Date.now() - 1000) });
      const retry = await cancel(ada, id, 'cancel-3');
      expect(retry.status).toBe(200);
      expect(retry.body.status).toBe('CANCELLED');
      expect((await cancel(ada, id, 'cancel-3')).headers['idempotent-replayed']).toBe('true');
    });

    it('runs a cancel once when ten retries with one key race each other', async () => {
      const id = await bookDirect('client-ada');
      const events = await eventsOf(id);
      const replies = await Promise.all(Array.from({ length: 10 }, () => cancel(ada, id, 'cancel-race')));
      const outcomes = replies.map((r) => (r.status === 200 ? (r.headers['idempotent-replayed'] ? 'replayed' : 'ran') : `${r.status} ${r.body.code}`));
      expect(outcomes.filter((o) => o === 'ran')).toEqual(['ran']);
      expect(outcomes.every((o) => ['ran', 'replayed', '409 IDEMPOTENCY_KEY_IN_USE'].includes(o))).toBe(true);
      expect(await eventsOf(id)).toBe(events + 1);
    });

    it('stores and replays a refusal too (409 ALREADY_CANCELLED), while without a key a repeat is simply refused', async () => {
      const id = await bookDirect('client-ada');
      expect((await cancel(ada, id)).status).toBe(200);
      const again = await cancel(ada, id);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('ALREADY_CANCELLED');
      const keyed = await cancel(ada, id, 'cancel-4');
      expect(keyed.status).toBe(409);
      const replay = await cancel(ada, id, 'cancel-4');
      expect(replay.status).toBe(409);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers['content-type']).toContain('application/problem+json');
      expect(replay.text).toBe(keyed.text);
    });

    it('creates a provider once per key, even without an id: the id derives from the key', async () => {
      const body = roundTheClockProvider({ name: 'Dr. Keyed' });
      const first = await t.gateway.request('POST', '/v1/providers', { token: admin, body, headers: { 'idempotency-key': 'provider-1' } });
      expect(first.status).toBe(201);
      const replay = await t.gateway.request('POST', '/v1/providers', { token: admin, body, headers: { 'idempotency-key': 'provider-1' } });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.id).toBe(first.body.id);
      // Had the answer been lost (key released), the retry would name the same id and be refused, not duplicated.
      await t.db.withSchema('gateway').table('idempotency_keys').where({ caller: 'ops-admin', key: 'provider-1' }).delete();
      const lost = await t.gateway.request('POST', '/v1/providers', { token: admin, body, headers: { 'idempotency-key': 'provider-1' } });
      expect(lost.status).toBe(409);
      expect(lost.body.code).toBe('PROVIDER_EXISTS');
      expect(await t.db('providers').where({ name: 'Dr. Keyed' }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
    });

    it('keys blocked time too', async () => {
      const body = { start: '2031-01-01T00:00:00Z', end: '2031-01-02T00:00:00Z', reason: 'VACATION' };
      const path = `/v1/providers/${providerId}/blocked-times`;
      const first = await t.gateway.request('POST', path, { token: admin, body, headers: { 'idempotency-key': 'block-1' } });
      const retry = await t.gateway.request('POST', path, { token: admin, body, headers: { 'idempotency-key': 'block-1' } });
      expect([first.status, retry.status]).toEqual([201, 201]);
      expect(retry.body.id).toBe(first.body.id);
      expect(first.headers.location).toBe(`${path}/${first.body.id}`);
      expect(await t.db('blocked_times').where({ provider_id: providerId }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
    });
  });
});
