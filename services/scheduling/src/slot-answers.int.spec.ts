import { eventually } from '@booking/platform/testing';
import { AvailabilityWatch } from './availability/availability-watch';
import { newYorkProvider, SchedulingTestApp, startSchedulingReplicas } from './testing/scheduling-app';

/**
 * Slot answers are memoised per instance by what they were computed from, and served without a read
 * while the instance hears no change of the provider (LISTEN/NOTIFY, triggers on every table slots are
 * made from). Instance a keeps them; instance b keeps none (SLOT_CACHE_MAX_BYTES=0), so b's answer is
 * always computed afresh, and a's must equal it byte for byte (same strong ETag): at once after a's own
 * writes, and within the time a notification takes after anybody else's. Instance c has the memo but
 * does not listen (SLOT_MEMO_LISTEN=false): it reads before every answer. The change feed passes what
 * an instance hears on to caches in front of it (the gateway).
 */
describe('slot answers: memo, ETag and 304 (real Postgres)', () => {
  let replicas: { apps: SchedulingTestApp[]; close: () => Promise<void> } | undefined;
  let a: SchedulingTestApp;
  let b: SchedulingTestApp;
  let c: SchedulingTestApp;
  const NOW = '2030-03-04T12:00:00.000Z';
  const query = (providerId: string, date = '2030-03-05', zone = 'America/New_York') => `/providers/${providerId}/slots?date=${date}&timeZone=${zone}`;
  const starts = (body: { slots: { start: string }[] }) => body.slots.map((s) => s.start);
  /** a's and b's answers, checked to be the same bytes. */
  const both = async (path: string) => {
    const [fromA, fromB] = [await a.request('GET', path), await b.request('GET', path)];
    expect(fromA.status).toBe(200);
    expect(fromA.headers.get('etag')).toBe(fromB.headers.get('etag'));
    expect(fromA.body).toEqual(fromB.body);
    return fromA;
  };

  /**
   * After a change made elsewhere: a's answer becomes b's within the notification's way here (bounded
   * at 2 s, which a working listener never comes near), and is then the same bytes.
   */
  const converged = async (path: string) => {
    const fromB = await b.request('GET', path);
    const etag = fromB.headers.get('etag');
    const fromA = await eventually(
      async () => {
        const answer = await a.request('GET', path);
        return answer.headers.get('etag') === etag && answer;
      },
      2000,
      `instance a answering ${etag} for ${path}`,
    );
    expect(fromA.body).toEqual(fromB.body);
    return fromA;
  };
  /** Runs `change` with the tables' notifying triggers off: nobody hears of it. */
  const unheard = async (change: (sql: (text: string, values?: unknown[]) => Promise<unknown>) => Promise<unknown>) => {
    const sql = (text: string, values: unknown[] = []) => a.platform.knex.raw(text, values as never[]);
    const tables = ['appointments', 'blocked_times', 'providers'];
    for (const table of tables) await sql(`ALTER TABLE scheduling.${table} DISABLE TRIGGER USER`);
    try {
      await change(sql);
    } finally {
      for (const table of tables) await sql(`ALTER TABLE scheduling.${table} ENABLE TRIGGER USER`);
    }
  };
  const blockBySql = (providerId: string, start: string, end: string) => (sql: (text: string, values?: unknown[]) => Promise<unknown>) =>
    sql(`INSERT INTO scheduling.blocked_times (id, provider_id, start_time, end_time, reason) VALUES (gen_random_uuid(), ?, ?, ?, 'BREAK')`, [providerId, start, end]);

  beforeAll(async () => {
    replicas = await startSchedulingReplicas(NOW, [{}, { SLOT_CACHE_MAX_BYTES: '0' }, { SLOT_MEMO_LISTEN: 'false' }]);
    [a, b, c] = replicas.apps;
  });
  afterEach(() => {
    a.clock.set(NOW);
    b.clock.set(NOW);
    c.clock.set(NOW);
  });
  afterAll(async () => replicas?.close());

  it('answers a repeated query with the same bytes and strong ETag, and 304 without a body for If-None-Match', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    const first = await a.request('GET', query(provider.id));
    const second = await a.request('GET', query(provider.id));
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.body).toEqual(first.body);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('private, no-cache');

    const notModified = await a.request('GET', query(provider.id), undefined, { 'if-none-match': `"other", W/${etag}` });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeUndefined();
    expect(notModified.headers.get('etag')).toBe(etag);
    expect((await a.request('GET', query(provider.id), undefined, { 'if-none-match': '"other"' })).status).toBe(200);
    // Another zone is another answer.
    expect((await a.request('GET', query(provider.id, '2030-03-05', 'Asia/Tokyo'))).headers.get('etag')).not.toBe(etag);
  });

  it('follows bookings and cancellations made through another instance, and returns to the first bytes', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    const before = await both(query(provider.id));
    expect(before.body.slots).toHaveLength(16);

    const booked = await b.request('POST', '/appointments', { providerId: provider.id, clientId: 'client-1', start: '2030-03-05T15:00:00Z', client: { timeZone: 'UTC' } });
    expect(booked.status).toBe(201);
    const taken = await converged(query(provider.id));
    expect(starts(taken.body)).not.toContain('2030-03-05T15:00:00.000Z');
    expect(taken.body.slots).toHaveLength(15);
    expect(taken.headers.get('etag')).not.toBe(before.headers.get('etag'));
    // The old tag no longer matches: a client holding it gets the new answer.
    expect((await a.request('GET', query(provider.id), undefined, { 'if-none-match': before.headers.get('etag') ?? '' })).status).toBe(200);

    expect((await b.request('POST', `/appointments/${booked.body.id}/cancel`, { by: 'CLIENT' })).status).toBe(200);
    const freed = await converged(query(provider.id));
    expect(freed.headers.get('etag')).toBe(before.headers.get('etag'));
    expect(freed.body).toEqual(before.body);
  });

  it('follows blocked time and rule changes made through another instance', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    await both(query(provider.id));
    const blocked = await b.request('POST', `/providers/${provider.id}/blocked-times`, { start: '2030-03-05T14:00:00Z', end: '2030-03-05T15:00:00Z', reason: 'BREAK' });
    expect(blocked.status).toBe(201);
    expect((await converged(query(provider.id))).body.slots).toHaveLength(14);
    expect((await b.request('PATCH', `/providers/${provider.id}`, { slotDurationMinutes: 60 })).status).toBe(200);
    expect((await converged(query(provider.id))).body.slots).toHaveLength(7);
  });

  it("serves the memo without a read until a change is heard, and sees its own writes at once", async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    const before = await both(query(provider.id));
    // A change nobody hears of (the triggers off): a, not reading, keeps its memo; b reads it.
    await unheard(blockBySql(provider.id, '2030-03-05T14:00:00Z', '2030-03-05T14:30:00Z'));
    expect((await a.request('GET', query(provider.id))).headers.get('etag')).toBe(before.headers.get('etag'));
    expect((await b.request('GET', query(provider.id))).body.slots).toHaveLength(15);
    // Cache-Control: no-cache makes a read the database anyway (what the gateway asks for).
    expect((await a.request('GET', query(provider.id), undefined, { 'cache-control': 'max-age=0, no-cache' })).body.slots).toHaveLength(15);
    // Its notification, whoever sends it, is what a waits for.
    await a.platform.knex.raw(`SELECT pg_notify('scheduling_availability', ?)`, [provider.id]);
    expect((await converged(query(provider.id))).body.slots).toHaveLength(15);

    // a's own booking counts before its 201 is sent, whether or not the notification has come yet.
    await unheard(async () => {
      const booked = await a.request('POST', '/appointments', { providerId: provider.id, clientId: 'client-2', start: '2030-03-05T16:00:00Z', client: { timeZone: 'UTC' } });
      expect(booked.status).toBe(201);
      expect(starts((await both(query(provider.id))).body)).not.toContain('2030-03-05T16:00:00.000Z');
      expect((await a.request('POST', `/appointments/${booked.body.id}/cancel`, { by: 'CLIENT' })).status).toBe(200);
      expect(starts((await both(query(provider.id))).body)).toContain('2030-03-05T16:00:00.000Z');
      expect((await a.request('PATCH', `/providers/${provider.id}`, { slotDurationMinutes: 60 })).status).toBe(200);
      expect((await both(query(provider.id))).body.slots).toHaveLength(7);
    });
  });

  it('hears changes written by plain SQL, not only by the service', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    await both(query(provider.id));
    await blockBySql(provider.id, '2030-03-05T20:00:00Z', '2030-03-05T21:00:00Z')((text, values) => a.platform.knex.raw(text, values as never[]));
    expect((await converged(query(provider.id))).body.slots).toHaveLength(14);
    // A confirmed appointment leaving the live statuses frees its slot.
    const booked = await b.request('POST', '/appointments', { providerId: provider.id, clientId: 'client-3', start: '2030-03-05T15:00:00Z', client: { timeZone: 'UTC' } });
    expect((await converged(query(provider.id))).body.slots).toHaveLength(13);
    await a.platform.knex.raw(`UPDATE scheduling.appointments SET status = 'CANCELLED' WHERE id = ?`, [booked.body.id]);
    expect((await converged(query(provider.id))).body.slots).toHaveLength(14);
  });

  it('trusts nothing heard before its listening session was lost', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    await both(query(provider.id));
    await unheard(blockBySql(provider.id, '2030-03-05T14:00:00Z', '2030-03-05T15:00:00Z'));
    expect((await a.request('GET', query(provider.id))).body.slots).toHaveLength(16);
    const { rows } = await a.platform.knex.raw(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'scheduling-listen' AND datname = current_database()`,
    );
    // Each instance's one listening session (c's only wakes its outbox relay).
    expect(rows).toEqual([{ killed: true }, { killed: true }, { killed: true }]);
    const watch = a.app.get(AvailabilityWatch);
    await eventually(async () => !watch.isListening(), 5000, 'the loss noticed');
    await eventually(async () => watch.isListening(), 5000, 'listening again');
    // Nothing is ever heard of the change: only forgetting what came before the gap makes a read again.
    expect((await a.request('GET', query(provider.id))).body.slots).toHaveLength(14);
  });

  it('reads before every answer when told not to listen (SLOT_MEMO_LISTEN=false)', async () => {
    const provider = (await c.request('POST', '/providers', newYorkProvider())).body;
    const first = await c.request('GET', query(provider.id));
    expect(first.body.slots).toHaveLength(16);
    expect(c.app.get(AvailabilityWatch).isListening()).toBe(false);
    await unheard(blockBySql(provider.id, '2030-03-05T14:00:00Z', '2030-03-05T14:30:00Z'));
    const second = await c.request('GET', query(provider.id));
    expect(second.body.slots).toHaveLength(15);
    expect(second.headers.get('etag')).toBe((await b.request('GET', query(provider.id))).headers.get('etag'));
  });

  it('drops the first slot the moment the clock passes its minimum notice, not later', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider({ minimumNoticeMinutes: 60 }))).body;
    // 13:00Z: the 09:00 New York slot (14:00Z) is exactly one hour of notice away, still bookable.
    a.clock.set('2030-03-05T13:00:00.000Z');
    b.clock.set('2030-03-05T13:00:00.000Z');
    expect(starts((await both(query(provider.id))).body)[0]).toBe('2030-03-05T14:00:00.000Z');
    expect(starts((await both(query(provider.id))).body)[0]).toBe('2030-03-05T14:00:00.000Z');
    a.clock.advance(1);
    b.clock.advance(1);
    const later = await both(query(provider.id));
    expect(starts(later.body)[0]).toBe('2030-03-05T14:30:00.000Z');
    expect(later.body.slots).toHaveLength(15);
  });

  it('counts busy time that only a buffer reaches, across the edges of the client date', async () => {
    const allDay = ['00:00', '24:00'];
    const provider = (
      await a.request('POST', '/providers', {
        ...newYorkProvider(),
        timeZone: 'UTC',
        slotDurationMinutes: 15,
        bufferBeforeMinutes: 30,
        bufferAfterMinutes: 30,
        workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, allDay])),
      })
    ).body;
    const block = (start: string, end: string) => b.request('POST', `/providers/${provider.id}/blocked-times`, { start, end, reason: 'PERSONAL' });
    // The day before: the 00:00 slot blocks [23:30, 00:45), so it is busy; 00:15 blocks from 23:45, free.
    expect((await block('2030-03-04T23:00:00Z', '2030-03-04T23:45:00Z')).status).toBe(201);
    // The day after: the 23:45 slot blocks until 00:30, so it is busy; 23:30 blocks until 00:15, free.
    expect((await block('2030-03-06T00:15:00Z', '2030-03-06T00:30:00Z')).status).toBe(201);
    const day = starts((await both(query(provider.id, '2030-03-05', 'UTC'))).body);
    expect(day[0]).toBe('2030-03-05T00:15:00.000Z');
    expect(day[day.length - 1]).toBe('2030-03-05T23:30:00.000Z');
    expect(day).toHaveLength(96 - 2);
  });

  describe('change feed (GET /availability/changes)', () => {
    /** Reads an instance's feed as server-sent events, in the background. */
    const openFeed = async (app: SchedulingTestApp) => {
      const abort = new AbortController();
      const response = await fetch(`${app.url}/availability/changes`, { signal: abort.signal });
      const events: { event: string; data: string }[] = [];
      let ended = false;
      if (response.status === 200 && response.body) {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        void (async () => {
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, { stream: true });
              let end: number;
              while ((end = buffer.indexOf('\n\n')) >= 0) {
                const lines = buffer.slice(0, end).split('\n');
                buffer = buffer.slice(end + 2);
                const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
                if (event) events.push({ event, data: lines.find((l) => l.startsWith('data:'))?.slice(5).trim() ?? '' });
              }
            }
          } catch {
            // aborted by the test
          }
          ended = true;
        })();
      }
      return { response, events, ended: () => ended, close: () => abort.abort() };
    };

    it('says ready, then names the provider of every change heard, from any writer', async () => {
      const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
      const feed = await openFeed(a);
      try {
        expect(feed.response.status).toBe(200);
        expect(feed.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
        await eventually(async () => feed.events.length >= 1, 2000, 'ready');
        expect(feed.events[0]).toEqual({ event: 'ready', data: '' });
        const booked = await b.request('POST', '/appointments', { providerId: provider.id, clientId: 'client-4', start: '2030-03-05T15:00:00Z', client: { timeZone: 'UTC' } });
        expect(booked.status).toBe(201);
        await eventually(async () => feed.events.some((e) => e.event === 'changed' && e.data === provider.id), 2000, 'the booking announced');
        await blockBySql(provider.id, '2030-03-05T20:00:00Z', '2030-03-05T21:00:00Z')((text, values) => a.platform.knex.raw(text, values as never[]));
        await eventually(async () => feed.events.filter((e) => e.data === provider.id).length >= 2, 2000, 'the blocked time announced');
      } finally {
        feed.close();
      }
    });

    it('ends the stream when the instance stops hearing changes, and is 503 where nothing is heard', async () => {
      const feed = await openFeed(a);
      await eventually(async () => feed.events.length >= 1, 2000, 'ready');
      await a.platform.knex.raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'scheduling-listen' AND datname = current_database()`);
      await eventually(async () => feed.ended(), 3000, 'the stream ended');
      await eventually(async () => a.app.get(AvailabilityWatch).isListening(), 5000, 'listening again');
      const none = await c.request('GET', '/availability/changes');
      expect(none.status).toBe(503);
      expect(none.body.code).toBe('CHANGE_FEED_UNAVAILABLE');
    });

    it('tells how long an answer holds unless the feed announces its provider (Availability-Fresh-For)', async () => {
      const provider = (await a.request('POST', '/providers', newYorkProvider({ minimumNoticeMinutes: 60 }))).body;
      // 12:30Z: the first slot (14:00Z) leaves the notice window at 13:00:00.001Z.
      a.clock.set('2030-03-05T12:30:00.000Z');
      expect((await a.request('GET', query(provider.id))).headers.get('availability-fresh-for')).toBe(String(30 * 60_000 + 1));
      // The same memo, later: less left.
      a.clock.set('2030-03-05T12:59:00.000Z');
      expect((await a.request('GET', query(provider.id))).headers.get('availability-fresh-for')).toBe(String(60_000 + 1));
      // Far ahead of any change the clock makes: an hour at most.
      a.clock.set('2030-03-01T00:00:00.000Z');
      expect((await a.request('GET', query(provider.id))).headers.get('availability-fresh-for')).toBe('3600000');
    });
  });
});
