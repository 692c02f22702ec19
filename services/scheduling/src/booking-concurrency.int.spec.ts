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
});
