import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { eventually } from '@booking/platform/testing';
import { BookingParams, bookingStatement, bookingValues, SLOT_HOURS_LOCK } from './appointments/book-appointment.statement';
import { newYorkProvider, SchedulingTestApp, startSchedulingApp } from './testing/scheduling-app';

/**
 * Many clients race for the same and for partly overlapping slots of one provider. The database, not
 * the application, decides: exactly one winner per conflicting set, 409 for everyone else, and no two
 * live appointments overlap afterwards.
 */
describe('booking under contention (real Postgres)', () => {
  let t: SchedulingTestApp;

  beforeAll(async () => {
    t = await startSchedulingApp({ now: '2030-03-04T12:00:00.000Z', env: { DB_POOL_MAX: '20' } });
  });
  afterAll(async () => t?.close());

  it('gives one winner per conflicting set among 240 concurrent requests', async () => {
    // 30-minute slots with a 30-minute buffer after: a booking blocks [start, start + 60 min), so the
    // slots at hh:00 and hh:30 overlap partly. Sets two hours apart never touch each other.
    const provider = (await t.request('POST', '/providers', newYorkProvider({ bufferAfterMinutes: 30 }))).body;
    const sets = ['2030-03-05T14:00:00Z', '2030-03-05T16:00:00Z', '2030-03-05T18:00:00Z', '2030-03-05T20:00:00Z'].map((base) => [
      base,
      new Date(Date.parse(base) + 30 * 60_000).toISOString(),
    ]);
    const requests = sets.flatMap((starts, set) =>
      Array.from({ length: 60 }, (_, i) => ({
        set,
        // Set 0 is the same-slot race; the others split between two partly overlapping slots.
        start: set === 0 ? starts[0] : starts[i % 2],
        clientId: `client-${set}-${i}`,
      })),
    );
    const results = await Promise.all(
      requests.map(async (r) => {
        const res = await t.request('POST', '/appointments', {
          providerId: provider.id,
          clientId: r.clientId,
          start: r.start,
          client: { timeZone: 'Europe/Berlin' },
        });
        return { ...r, status: res.status, code: res.body?.code };
      }),
    );

    for (let set = 0; set < sets.length; set++) {
      const inSet = results.filter((r) => r.set === set);
      expect(inSet.filter((r) => r.status === 201)).toHaveLength(1);
      expect(inSet.filter((r) => r.status === 409 && r.code === 'SLOT_UNAVAILABLE')).toHaveLength(inSet.length - 1);
    }
    expect(results.some((r) => r.status >= 500)).toBe(false);

    const { rows } = await t.platform.knex.raw(
      `SELECT count(*)::int AS overlaps FROM appointments a JOIN appointments b
         ON a.provider_id = b.provider_id AND a.id < b.id
        AND tstzrange(a.blocked_start, a.blocked_end, '[)') && tstzrange(b.blocked_start, b.blocked_end, '[)')
      WHERE a.status IN ('PENDING','CONFIRMED') AND b.status IN ('PENDING','CONFIRMED')`,
    );
    expect(rows[0].overlaps).toBe(0);
    const live = await t.platform.knex('appointments').where({ provider_id: provider.id }).whereIn('status', ['PENDING', 'CONFIRMED']);
    expect(live).toHaveLength(sets.length);
    // Every event in the store belongs to a winner: losers left nothing behind.
    const streams = await t.platform.knex('events').where({ stream_type: 'appointment' }).distinct('stream_id');
    expect(streams).toHaveLength(sets.length);
  });

  /**
   * The hour locks are what makes overlapping bookings take turns: a deadlock answers 409 as well, so
   * only Postgres's own count of deadlocks tells turns from deadlocks. The same race runs the booking
   * statement as production runs it, then the same text with the lock part replaced by a constant.
   */
  describe('overlapping bookings take turns instead of deadlocking', () => {
    const ROUNDS = 12;
    const RACERS = 4;
    let template: Record<string, unknown>;
    let providerId: string;
    let providerVersion: number;

    beforeAll(async () => {
      const provider = (await t.request('POST', '/providers', newYorkProvider({ bufferAfterMinutes: 30 }))).body;
      const booked = await t.request('POST', '/appointments', { providerId: provider.id, clientId: 'template', start: '2030-03-06T14:00:00Z', client: { timeZone: 'Europe/Berlin' } });
      expect(booked.status).toBe(201);
      template = (await t.platform.knex.raw(`SELECT to_jsonb(a) AS row FROM appointments a WHERE id = ?`, [booked.body.id])).rows[0].row;
      [providerId, providerVersion] = [provider.id, provider.version];
    });

    const deadlocks = async () => Number((await t.platform.knex.raw(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`)).rows[0].deadlocks);

    /**
     * ROUNDS rounds (or, `untilDeadlock`, until a round had a deadlock). In each, a booking of hh:00 of
     * a fresh hour is held open in a transaction while RACERS sessions book at once, half at hh:00 and
     * half at hh:30 (each booking blocks an hour: 30 minutes and a 30-minute buffer, so every pair
     * overlaps); when all of them wait, the held booking rolls back, as a booking that lost elsewhere
     * does. This is the pile-up seen in CI: waiters that had already inserted their rows find each
     * other's when the one they waited for goes away.
     * The sessions are closed before the count is read: a backend reports its statistics when it exits,
     * and is gone from pg_stat_activity only after that.
     */
    let races = 0;
    async function race(text: string, untilDeadlock = false) {
      const firstHour = Date.parse('2030-06-03T00:00:00Z') + races++ * ROUNDS * 3 * 3600_000;
      const applicationName = `deadlock-race-${randomUUID()}`;
      const [holder, ...racers] = await Promise.all(
        Array.from({ length: RACERS + 1 }, async () => {
          const client = new Client({ connectionString: t.env.databaseUrl, application_name: applicationName });
          await client.connect();
          await client.query(`SET search_path TO ${t.platform.schema}`);
          return client;
        }),
      );
      const book = async (session: Client, start: number, clientId: string) => {
        const id = randomUUID();
        const params: BookingParams = {
          providerId,
          providerVersion,
          blockedFrom: new Date(start),
          blockedTo: new Date(start + 60 * 60_000),
          appointmentId: id,
          correlationId: null,
          occurredAt: new Date(),
          events: [{ event_id: randomUUID(), version: 1, type: 'AppointmentRequested', data: { appointmentId: id } }],
          appointment: {
            ...template,
            id,
            client_id: clientId,
            start_time: new Date(start).toISOString(),
            end_time: new Date(start + 30 * 60_000).toISOString(),
            blocked_start: new Date(start).toISOString(),
            blocked_end: new Date(start + 60 * 60_000).toISOString(),
          },
          outbox: [{ event_id: randomUUID(), topic: 'race', message_key: id, event_type: 'AppointmentRequested', payload: {} }],
        };
        try {
          const { rows } = await session.query({ name: 'race', text, values: bookingValues(params) });
          return rows[0].projected === 1 ? 'booked' : 'refused';
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        }
      };
      const waiting = async () =>
        Number((await t.platform.knex.raw(`SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'`, [applicationName])).rows[0].count);
      const outcomes: string[] = [];
      const winners: number[] = [];
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const hour = firstHour + round * 3 * 3600_000;
          await holder.query('BEGIN');
          expect(await book(holder, hour, 'holder')).toBe('booked');
          const racing = Promise.all(racers.map((session, i) => book(session, hour + (i % 2) * 30 * 60_000, `racer-${i}`)));
          try {
            await eventually(async () => (await waiting()) === RACERS, 30000, 'every racer waiting');
          } finally {
            await holder.query('ROLLBACK');
          }
          const results = await racing;
          outcomes.push(...results);
          winners.push(results.filter((r) => r === 'booked').length);
          // Each deadlock costs a second (deadlock_timeout): one round that had some proves the point.
          if (untilDeadlock && results.includes('40P01')) break;
        }
      } finally {
        await Promise.all([holder, ...racers].map((s) => s.end()));
      }
      await eventually(
        async () => Number((await t.platform.knex.raw(`SELECT count(*) FROM pg_stat_activity WHERE application_name = ?`, [applicationName])).rows[0].count) === 0,
        30000,
        'the racing sessions to exit',
      );
      const codes = outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {});
      return { codes, winners };
    }

    it('keeps the deadlock count still with the hour locks, and moves it without them', async () => {
      const statement = bookingStatement(t.platform.schema, false);
      const unlocked = statement.replace(SLOT_HOURS_LOCK, 'SELECT 1 AS taken');
      expect(unlocked).not.toBe(statement);

      const beforeLocked = await deadlocks();
      const locked = await race(statement);
      expect(locked.winners).toEqual(Array(ROUNDS).fill(1));
      expect(locked.codes).toEqual({ booked: ROUNDS, '23P01': ROUNDS * (RACERS - 1) });
      expect((await deadlocks()) - beforeLocked).toBe(0);

      const beforeUnlocked = await deadlocks();
      const free = await race(unlocked, true);
      expect(free.winners.every((w) => w <= 1)).toBe(true);
      expect(free.codes['40P01']).toBeGreaterThan(0);
      expect((await deadlocks()) - beforeUnlocked).toBe(free.codes['40P01']);
    });
  });
});
