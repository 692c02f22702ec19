import { IdempotencyKeySweepJob } from './appointments/idempotency-key-sweep.job';
import { newYorkProvider, SchedulingTestApp, startSchedulingApp } from './testing/scheduling-app';

/**
 * The scheduling service through HTTP against the real Postgres and Kafka: providers, slots in the
 * client's zone, booking, the lifecycle, idempotency, expiry, history and projection rebuilds.
 * The clock is frozen in 2030 so these dates never go stale.
 */
describe('scheduling service (e2e)', () => {
  let t: SchedulingTestApp;
  const NOW = '2030-03-04T12:00:00.000Z'; // Monday 07:00 in New York

  beforeAll(async () => {
    t = await startSchedulingApp({ now: NOW, env: { HOLD_TTL_SECONDS: '900' } });
  });
  afterAll(async () => t?.close());

  const count = async (table: string) => Number((await t.platform.knex(table).count<{ count: string }[]>('* as count'))[0].count);
  const counts = async () => ({
    providers: await count('providers'),
    appointments: await count('appointments'),
    events: await count('events'),
    blocked: await count('blocked_times'),
    idempotency: await count('idempotency_keys'),
  });

  async function createProvider(overrides: Record<string, unknown> = {}) {
    const res = await t.request('POST', '/providers', newYorkProvider(overrides));
    expect(res.status).toBe(201);
    return res.body;
  }

  const client = { timeZone: 'Asia/Tokyo', email: 'kenji@example.jp', phone: '+819012345678' };
  const book = (providerId: string, start: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    t.request('POST', '/appointments', { providerId, clientId: 'client-kenji', start, client, ...extra }, headers);

  describe('providers', () => {
    it('creates, reads, updates and deletes a provider, each change an event', async () => {
      const created = await createProvider({ workingHours: { MON: [['09:00', '12:00'], ['13:00', '17:00']], TUE: ['09:00', '17:00'] } });
      expect(created).toMatchObject({ timeZone: 'America/New_York', workingHours: { MON: [['09:00', '12:00'], ['13:00', '17:00']], TUE: [['09:00', '17:00']] } });
      expect((await t.request('GET', `/providers/${created.id}`)).body.name).toBe('Dr. Ada Example');
      const updated = await t.request('PATCH', `/providers/${created.id}`, { slotDurationMinutes: 45, price: { amountMinor: 5000, currency: 'USD' } });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ slotDurationMinutes: 45, price: { amountMinor: 5000 }, version: 2 });
      expect((await t.request('DELETE', `/providers/${created.id}`)).status).toBe(204);
      expect((await t.request('GET', `/providers/${created.id}`)).status).toBe(404);
      const events = await t.platform.knex('events').where({ stream_id: created.id }).orderBy('version');
      expect(events.map((e) => e.type)).toEqual(['ProviderCreated', 'ProviderUpdated', 'ProviderDeleted']);
    });

    it.each([
      ['a fixed offset', { timeZone: '+05:00' }, 'body.timeZone'],
      ['an abbreviation', { timeZone: 'EST' }, 'body.timeZone'],
      ['an unknown zone', { timeZone: 'Mars/Olympus_Mons' }, 'body.timeZone'],
      ['overlapping intervals', { workingHours: { MON: [['09:00', '12:00'], ['11:00', '13:00']] } }, 'body.workingHours.MON'],
      ['an inverted interval', { workingHours: { MON: ['17:00', '09:00'] } }, 'body.workingHours.MON'],
      ['a malformed time', { workingHours: { MON: ['9am', '17:00'] } }, 'body.workingHours.MON.0'],
      ['an unknown weekday', { workingHours: { MONDAY: ['09:00', '17:00'] } }, 'body.workingHours'],
      ['a wrong type', { slotDurationMinutes: '30' }, 'body.slotDurationMinutes'],
      ['an unknown field', { colour: 'blue' }, 'body'],
    ])('rejects %s with a 400 that names the field as the request spells it, writing nothing', async (_name, overrides, field) => {
      const before = await counts();
      const res = await t.request('POST', '/providers', newYorkProvider(overrides));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('VALIDATION_FAILED');
      // The path of the field the client sent (body.timeZone, never the engine's own "timezone").
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
      expect(res.body.detail).not.toMatch(/\btimezone\b/);
      expect(await counts()).toEqual(before);
    });

    it('accepts Asia/Kolkata and the design card shape', async () => {
      const provider = await createProvider({ timeZone: 'Asia/Kolkata', workingHours: { MON: ['09:00', '17:00'] } });
      expect(provider.timeZone).toBe('Asia/Kolkata');
    });

    it('answers malformed JSON, oversized bodies and bad ids with 4xx problems', async () => {
      const before = await counts();
      const malformed = await t.request('POST', '/providers', '{"name": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('MALFORMED_JSON');
      const huge = await t.request('POST', '/providers', newYorkProvider({ name: 'x'.repeat(200_000) }));
      expect(huge.status).toBe(413);
      expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE');
      // A JSON body is an object or an array: `null` is not "no body".
      for (const scalar of ['null', '"text"', '7']) {
        const refused = await t.request('POST', '/providers', scalar, { 'content-type': 'application/json' });
        expect({ scalar, status: refused.status, code: refused.body.code }).toEqual({ scalar, status: 400, code: 'MALFORMED_JSON' });
      }
      const poisoned = await t.request('POST', '/providers', '{"__proto__": {"admin": true}}', { 'content-type': 'application/json' });
      expect(poisoned.status).toBe(400);
      // Another content type reaches the handler as no body, and is refused there.
      const plain = await t.request('POST', '/providers', 'name=x', { 'content-type': 'text/plain' });
      expect(plain.status).toBe(400);
      expect(plain.headers.get('content-type')).toContain('application/problem+json');
      expect((await t.request('GET', '/providers/not-a-uuid')).status).toBe(400);
      expect((await t.request('GET', `/providers/${'9'.repeat(2000)}`)).status).toBe(400);
      const tooLong = await t.request('GET', `/providers/${'9'.repeat(3000)}`);
      const badPath = await t.request('GET', '/providers/%E0%A4%A');
      expect({ status: badPath.status, code: badPath.body?.code }).toEqual({ status: 400, code: 'MALFORMED_URL' });
      expect(tooLong.headers.get('x-correlation-id')).toBeTruthy();
      expect({ status: tooLong.status, type: tooLong.headers.get('content-type'), code: tooLong.body?.code }).toEqual({ status: 414, type: expect.stringContaining('application/problem+json'), code: 'URI_TOO_LONG' });
      expect((await t.request('GET', '/providers/5b3c2b1e-0000-4000-8000-000000000000')).status).toBe(404);
      const put = await t.request('PUT', '/providers/5b3c2b1e-0000-4000-8000-000000000000', { name: 'x' });
      expect({ status: put.status, code: put.body.code, allow: put.headers.get('allow') }).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'DELETE, GET, HEAD, PATCH' });
      expect((await t.request('PUT', '/nowhere')).status).toBe(404);
      expect(await counts()).toEqual(before);
    });
  });

  describe('slots', () => {
    it('shows a New York provider to a Tokyo client in Tokyo time, UTC underneath', async () => {
      const provider = await createProvider();
      // Tokyo's Wednesday 2030-03-06 runs from Tuesday 10:00 to Wednesday 10:00 in New York.
      const res = await t.request('GET', `/providers/${provider.id}/slots?date=2030-03-06&timeZone=Asia/Tokyo`);
      expect(res.status).toBe(200);
      expect(res.body.timeZone).toBe('Asia/Tokyo');
      const first = res.body.slots[0];
      expect(first.start).toBe('2030-03-05T15:00:00.000Z'); // Tue 10:00 EST
      expect(first.local).toEqual({ timeZone: 'Asia/Tokyo', start: '2030-03-06T00:00:00.000+09:00', end: '2030-03-06T00:30:00.000+09:00', date: '2030-03-06' });
      // Tue 10:00-17:00 (14 slots) and Wed 09:00-10:00 New York time (2 slots, before Tokyo midnight).
      expect(res.body.slots).toHaveLength(16);
      expect(res.body.slots.every((s: { local: { date: string } }) => s.local.date === '2030-03-06')).toBe(true);
    });

    it('removes booked and blocked time and never touches existing appointments when blocking', async () => {
      const provider = await createProvider();
      const booked = await book(provider.id, '2030-03-05T14:00:00Z');
      expect(booked.status).toBe(201);
      const blocked = await t.request('POST', `/providers/${provider.id}/blocked-times`, {
        start: '2030-03-05T14:00:00Z',
        end: '2030-03-05T16:00:00Z',
        reason: 'PERSONAL',
      });
      expect(blocked.status).toBe(201);
      const slots = await t.request('GET', `/providers/${provider.id}/slots?date=2030-03-05`);
      const starts = slots.body.slots.map((s: { start: string }) => s.start);
      expect(starts[0]).toBe('2030-03-05T16:00:00.000Z');
      expect((await t.request('GET', `/appointments/${booked.body.id}`)).body.status).toBe('CONFIRMED');
      expect((await t.request('DELETE', `/providers/${provider.id}/blocked-times/${blocked.body.id}`)).status).toBe(204);
      const after = await t.request('GET', `/providers/${provider.id}/slots?date=2030-03-05`);
      expect(after.body.slots[0].start).toBe('2030-03-05T14:30:00.000Z');
    });

    it.each([
      ['a malformed date', '?date=2030-3-5'],
      ['an impossible date', '?date=2030-02-30'],
      ['an invalid zone', '?date=2030-03-05&timeZone=Tokyo'],
      ['a range over 31 days', '?from=2030-03-01&to=2030-04-15'],
      ['end before start', '?from=2030-03-10&to=2030-03-01'],
      ['no date at all', ''],
    ])('rejects %s with a 400', async (_name, query) => {
      const provider = await createProvider();
      const res = await t.request('GET', `/providers/${provider.id}/slots${query}`);
      expect(res.status).toBe(400);
      expect(res.body.detail).toBeTruthy();
    });

    it.each([
      ['?date=2030-02-30', 'date'],
      ['?from=2030-02-30&to=2030-03-02', 'from'],
      ['?date=2030-03-05&timeZone=EST', 'timeZone'],
      ['?date=2030-03-05&timeZone=%2B05:00', 'timeZone'],
      ['?from=2030-03-10&to=2030-03-01', 'to'],
    ])('names the query parameter the client sent: %s → %s', async (query, parameter) => {
      const provider = await createProvider();
      const res = await t.request('GET', `/providers/${provider.id}/slots${query}`);
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([`query.${parameter}`]);
    });
  });

  describe('booking', () => {
    it('holds a paid slot as PENDING with its event history, and frees nothing twice', async () => {
      const provider = await createProvider({ price: { amountMinor: 12000, currency: 'USD' } });
      const res = await book(provider.id, '2030-03-05T15:00:00Z', { paymentMethod: 'tok_success' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        status: 'PENDING',
        start: '2030-03-05T15:00:00.000Z',
        end: '2030-03-05T15:30:00.000Z',
        local: { timeZone: 'Asia/Tokyo', start: '2030-03-06T00:00:00.000+09:00' },
        price: { amountMinor: 12000, currency: 'USD' },
        holdExpiresAt: '2030-03-04T12:15:00.000Z',
      });
      const history = await t.request('GET', `/appointments/${res.body.id}/events`);
      expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['AppointmentRequested']);
      // The relay deletes outbox rows as soon as Kafka has them, so the rows written are counted as they
      // are inserted, whoever the appointment (the loser's would be a stream of its own).
      await t.platform.knex.raw(`CREATE TABLE outbox_written (message_key text NOT NULL, event_type text NOT NULL)`);
      await t.platform.knex.raw(`CREATE FUNCTION outbox_written() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO outbox_written VALUES (NEW.message_key, NEW.event_type); RETURN NULL; END $$`);
      await t.platform.knex.raw(`CREATE TRIGGER outbox_written AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_written()`);
      try {
        const before = await counts();
        const again = await book(provider.id, '2030-03-05T15:00:00Z');
        expect(again.status).toBe(409);
        expect(again.body).toMatchObject({ code: 'SLOT_UNAVAILABLE', detail: 'Slot no longer available.' });
        const outbox = await t.platform.knex('outbox_written').select('message_key', 'event_type');
        expect(outbox).toEqual([]);
        expect(await counts()).toEqual(before);
        const events = await t.platform.knex('events').whereRaw(`data->>'providerId' = ?`, [provider.id]).select('stream_id', 'type');
        expect(events).toEqual([{ stream_id: res.body.id, type: 'AppointmentRequested' }]);
      } finally {
        await t.platform.knex.raw(`DROP TRIGGER outbox_written ON outbox; DROP FUNCTION outbox_written(); DROP TABLE outbox_written`);
      }
    });

    it('confirms a free booking at once', async () => {
      const provider = await createProvider();
      const res = await book(provider.id, '2030-03-05T16:00:00Z');
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('CONFIRMED');
      const history = await t.request('GET', `/appointments/${res.body.id}/events`);
      expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['AppointmentRequested', 'AppointmentConfirmed']);
    });

    it.each([
      ['off the grid', { start: '2030-03-05T14:10:00Z' }, 422, 'SLOT_NOT_ON_GRID'],
      ['outside working hours', { start: '2030-03-05T23:00:00Z' }, 422, 'SLOT_NOT_ON_GRID'],
      ['in the past', { start: '2030-03-01T14:00:00Z' }, 422, 'SLOT_TOO_SOON'],
      ['beyond the horizon', { start: '2032-03-05T14:00:00Z' }, 422, 'SLOT_BEYOND_HORIZON'],
      ['with the wrong end', { start: '2030-03-05T14:00:00Z', end: '2030-03-05T15:00:00Z' }, 422, 'SLOT_LENGTH_MISMATCH'],
      ['with end before start', { start: '2030-03-05T14:00:00Z', end: '2030-03-05T13:00:00Z' }, 422, 'SLOT_LENGTH_MISMATCH'],
      ['with a malformed date', { start: '2030-03-05 14:00' }, 400, 'VALIDATION_FAILED'],
      ['with an impossible offset', { start: '2030-03-05T14:00:00+25:00' }, 400, 'VALIDATION_FAILED'],
      ['with an invalid client zone', { client: { timeZone: 'JST' } }, 400, 'VALIDATION_FAILED'],
      ['with an unknown provider', { providerId: '5b3c2b1e-0000-4000-8000-000000000000' }, 422, 'UNKNOWN_PROVIDER'],
      ['with a wrong type', { clientId: 42 }, 400, 'VALIDATION_FAILED'],
      ['with a missing field', { clientId: undefined }, 400, 'VALIDATION_FAILED'],
    ])('rejects a booking %s, writing nothing', async (_name, patch, status, code) => {
      const provider = await createProvider({ minimumNoticeMinutes: 60 });
      const before = await counts();
      const res = await book(provider.id, '2030-03-05T14:00:00Z', patch);
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(await counts()).toEqual(before);
    });

    it('replays an Idempotency-Key, refuses it with another body, and records it atomically', async () => {
      const provider = await createProvider();
      const headers = { 'idempotency-key': 'key-123', 'x-caller-id': 'team-a' };
      const first = await book(provider.id, '2030-03-05T17:00:00Z', {}, headers);
      const second = await book(provider.id, '2030-03-05T17:00:00Z', {}, headers);
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.body.id).toBe(first.body.id);
      const other = await book(provider.id, '2030-03-05T17:30:00Z', {}, headers);
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const otherCaller = await book(provider.id, '2030-03-05T17:30:00Z', {}, { ...headers, 'x-caller-id': 'team-b' });
      expect(otherCaller.status).toBe(201);
      expect(await t.platform.knex('appointments').where({ provider_id: provider.id })).toHaveLength(2);
    });

    it('forgets keys past their retention (24 h) in batches, and only those', async () => {
      const provider = await createProvider();
      const keyed = (key: string, start: string) => book(provider.id, start, {}, { 'idempotency-key': key, 'x-caller-id': 'team-sweep' });
      const starts = ['2030-03-05T20:00:00Z', '2030-03-05T20:30:00Z', '2030-03-05T21:00:00Z', '2030-03-05T21:30:00Z'];
      for (const [i, start] of starts.entries()) expect((await keyed(`sweep-${i}`, start)).status).toBe(201);
      // Three keys are older than the retention, one is a minute short of it.
      await t.platform.knex.raw(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE caller = 'team-sweep' AND key IN ('sweep-0', 'sweep-1', 'sweep-2')`);
      await t.platform.knex.raw(`UPDATE idempotency_keys SET created_at = now() - interval '23 hours 59 minutes' WHERE caller = 'team-sweep' AND key = 'sweep-3'`);
      expect(await t.app.get(IdempotencyKeySweepJob).sweep(2)).toBe(3);
      expect((await t.platform.knex('idempotency_keys').where({ caller: 'team-sweep' }).pluck('key')).sort()).toEqual(['sweep-3']);
      // The kept key still replays; a forgotten one is a new request (here: its slot is taken, 409).
      const replayed = await keyed('sweep-3', starts[3]);
      expect(replayed.status).toBe(201);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      const forgotten = await keyed('sweep-0', starts[0]);
      expect(forgotten.status).toBe(409);
      expect(forgotten.body.code).toBe('SLOT_UNAVAILABLE');
    });

    it('answers 409 to a second request with a key that is still being processed', async () => {
      const provider = await createProvider();
      const key = 'in-flight-key';
      // Hold the key's lock as an in-flight request would.
      const trx = await t.platform.knex.transaction();
      let res;
      try {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`team-a\n${key}`]);
        res = await book(provider.id, '2030-03-05T18:00:00Z', {}, { 'idempotency-key': key, 'x-caller-id': 'team-a' });
      } finally {
        await trx.rollback();
      }
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    });
  });

  describe('lifecycle', () => {
    it('expires an unpaid hold after the TTL and frees its slot', async () => {
      const provider = await createProvider({ price: { amountMinor: 5000, currency: 'EUR' } });
      const res = await book(provider.id, '2030-03-05T19:00:00Z');
      expect(res.body.status).toBe('PENDING');
      t.clock.advance(16 * 60_000);
      try {
        const expired = await waitFor(async () => {
          const a = await t.request('GET', `/appointments/${res.body.id}`);
          return a.body.status === 'CANCELLED' ? a.body : undefined;
        });
        expect(expired.cancellation).toMatchObject({ by: 'SYSTEM', reason: 'EXPIRED' });
        expect((await book(provider.id, '2030-03-05T19:00:00Z')).status).toBe(201);
      } finally {
        t.clock.set(NOW);
      }
    });

    it('cancels once, then answers 409; completes only after the start; names the state on illegal moves', async () => {
      const provider = await createProvider();
      const a = (await book(provider.id, '2030-03-05T20:00:00Z')).body;
      const early = await t.request('POST', `/appointments/${a.id}/complete`);
      expect(early.status).toBe(409);
      expect(early.body.code).toBe('NOT_STARTED_YET');
      const cancelled = await t.request('POST', `/appointments/${a.id}/cancel`, { by: 'CLIENT' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('CANCELLED');
      const twice = await t.request('POST', `/appointments/${a.id}/cancel`, { by: 'CLIENT' });
      expect(twice.status).toBe(409);
      expect(twice.body.code).toBe('ALREADY_CANCELLED');
      const noShow = await t.request('POST', `/appointments/${a.id}/no-show`);
      expect(noShow.status).toBe(409);
      expect(noShow.body.detail).toContain('CANCELLED');
    });

    it('reschedules into a slot overlapping its own, and refuses a taken one leaving the old slot held', async () => {
      const provider = await createProvider({ slotDurationMinutes: 60, workingHours: { TUE: ['09:00', '17:00'], WED: ['09:00', '17:00'] } });
      // 09:00-10:00 New York; the grid has hourly slots.
      const a = (await book(provider.id, '2030-03-05T14:00:00Z')).body;
      const b = (await book(provider.id, '2030-03-05T16:00:00Z')).body;
      const taken = await t.request('POST', `/appointments/${a.id}/reschedule`, { start: '2030-03-05T16:00:00Z', by: 'CLIENT' });
      expect(taken.status).toBe(409);
      // Both appointments as they are after the refusal: the mover kept its slot, the holder its own.
      const [aAfter, bAfter] = await Promise.all([a.id, b.id].map(async (id) => (await t.request('GET', `/appointments/${id}`)).body));
      expect(aAfter).toMatchObject({ start: '2030-03-05T14:00:00.000Z', status: 'CONFIRMED', version: a.version });
      expect(bAfter).toMatchObject({ start: '2030-03-05T16:00:00.000Z', status: 'CONFIRMED', version: b.version });
      expect((await t.request('GET', `/appointments/${a.id}/events`)).body.items.map((e: { type: string }) => e.type)).toEqual(['AppointmentRequested', 'AppointmentConfirmed']);
      const moved = await t.request('POST', `/appointments/${a.id}/reschedule`, { start: '2030-03-05T15:00:00Z', by: 'CLIENT' });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ start: '2030-03-05T15:00:00.000Z', status: 'CONFIRMED' });
      expect((await book(provider.id, '2030-03-05T14:00:00Z')).status).toBe(201);
    });

    it('lists with filters and a cursor', async () => {
      const provider = await createProvider();
      for (const start of ['2030-03-06T14:00:00Z', '2030-03-06T14:30:00Z', '2030-03-06T15:00:00Z']) {
        expect((await book(provider.id, start)).status).toBe(201);
      }
      const page1 = await t.request('GET', `/appointments?providerId=${provider.id}&limit=2`);
      expect(page1.body.items).toHaveLength(2);
      const page2 = await t.request('GET', `/appointments?providerId=${provider.id}&limit=2&cursor=${page1.body.nextCursor}`);
      expect(page2.body.items.map((a: { start: string }) => a.start)).toEqual(['2030-03-06T15:00:00.000Z']);
      expect(page2.body.nextCursor).toBeNull();
      expect((await t.request('GET', `/appointments?status=LOST`)).status).toBe(400);
      expect((await t.request('GET', `/appointments?cursor=garbage`)).status).toBe(400);
    });

    it('rebuilds the projection from the events into exactly the live table', async () => {
      // Its own appointments in every state the projection holds: PENDING, CONFIRMED, rescheduled, cancelled.
      const provider = await createProvider({ price: { amountMinor: 5000, currency: 'EUR' } });
      const free = await createProvider();
      const pending = (await book(provider.id, '2030-03-07T14:00:00Z')).body;
      const confirmed = (await book(free.id, '2030-03-07T14:00:00Z')).body;
      const moved = (await book(free.id, '2030-03-07T15:00:00Z')).body;
      const cancelled = (await book(free.id, '2030-03-07T16:00:00Z')).body;
      expect((await t.request('POST', `/appointments/${moved.id}/reschedule`, { start: '2030-03-07T17:00:00Z', by: 'CLIENT' })).status).toBe(200);
      expect((await t.request('POST', `/appointments/${cancelled.id}/cancel`, { by: 'PROVIDER' })).status).toBe(200);
      const ids = [pending.id, confirmed.id, moved.id, cancelled.id];
      const snapshot = async () => (await t.platform.knex('appointments').orderBy('id')).map((r) => ({ ...r }));
      const live = await snapshot();
      const mine = Object.fromEntries(live.filter((r) => ids.includes(r.id)).map((r) => [r.id, [r.status, r.version]]));
      expect(mine).toEqual({ [pending.id]: ['PENDING', 1], [confirmed.id]: ['CONFIRMED', 2], [moved.id]: ['CONFIRMED', 3], [cancelled.id]: ['CANCELLED', 3] });
      // A projection that lost rows: the rebuild must bring them back from the events alone.
      await t.platform.knex('appointments').whereIn('id', ids).delete();
      const res = await t.request('POST', '/admin/projections/rebuild');
      expect(res.status).toBe(200);
      expect(await snapshot()).toEqual(live);
    });
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}
