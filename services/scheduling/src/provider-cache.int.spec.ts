import { eventually } from '@booking/platform/testing';
import { newYorkProvider, SchedulingTestApp, startSchedulingReplicas } from './testing/scheduling-app';

/**
 * Each instance keeps parsed providers in memory, and a booking is validated against that copy. The
 * booking statement checks the copy's version against the row, so a change made through another
 * instance is never booked around: the stale copy is re-read and the booking judged by the new rules.
 */
describe('provider cache across instances (real Postgres)', () => {
  let replicas: { apps: SchedulingTestApp[]; close: () => Promise<void> } | undefined;
  let a: SchedulingTestApp;
  let b: SchedulingTestApp;
  const book = (t: SchedulingTestApp, providerId: string, start: string, headers: Record<string, string> = {}) =>
    t.request('POST', '/appointments', { providerId, clientId: 'client-1', start, client: { timeZone: 'Asia/Tokyo' } }, headers);

  beforeAll(async () => {
    replicas = await startSchedulingReplicas('2030-03-04T12:00:00.000Z', [{}, {}]);
    [a, b] = replicas.apps;
  });
  afterAll(async () => replicas?.close());

  it('books by the rules another instance just changed', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    // Instance a caches the provider: 30-minute slots.
    expect((await book(a, provider.id, '2030-03-05T14:00:00Z')).status).toBe(201);
    const changed = await b.request('PATCH', `/providers/${provider.id}`, { slotDurationMinutes: 60 });
    expect(changed.status).toBe(200);

    // 09:30 New York was a slot under the old rules, not under the new hourly grid.
    const offGrid = await book(a, provider.id, '2030-03-05T14:30:00Z');
    expect(offGrid.status).toBe(422);
    expect(offGrid.body.code).toBe('SLOT_NOT_ON_GRID');
    const hourly = await book(a, provider.id, '2030-03-05T16:00:00Z');
    expect(hourly.status).toBe(201);
    expect(Date.parse(hourly.body.end) - Date.parse(hourly.body.start)).toBe(60 * 60_000);
  });

  it('lists slots by the rules, blocked time and existence another instance just changed', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    const slots = async () => a.request('GET', `/providers/${provider.id}/slots?date=2030-03-05&timeZone=America/New_York`);
    // a serves its memo until it hears of the change (see slot-answers.int.spec.ts): within the
    // notification's way here, bounded at 2 s.
    const once = <T>(what: string, probe: () => Promise<T | false>) => eventually(probe, 2000, what);
    expect((await slots()).body.slots).toHaveLength(16);
    expect((await b.request('PATCH', `/providers/${provider.id}`, { slotDurationMinutes: 60 })).status).toBe(200);
    const hourly = await once('hourly slots', async () => {
      const answer = (await slots()).body;
      return answer.slotDurationMinutes === 60 && answer;
    });
    expect(hourly.slots).toHaveLength(8);
    await b.request('POST', `/providers/${provider.id}/blocked-times`, { start: '2030-03-05T14:00:00Z', end: '2030-03-05T16:00:00Z', reason: 'BREAK' });
    const blocked = await once('the blocked hours gone', async () => {
      const answer = (await slots()).body;
      return answer.slots.length === 6 && answer;
    });
    expect(blocked.slots.map((s: { start: string }) => s.start)).not.toContain('2030-03-05T15:00:00.000Z');
    expect((await b.request('DELETE', `/providers/${provider.id}`)).status).toBe(204);
    const gone = await once('the provider gone', async () => {
      const answer = await slots();
      return answer.status !== 200 && answer;
    });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('PROVIDER_NOT_FOUND');
  });

  it('refuses slots another instance blocked, and providers it deleted, writing nothing', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    expect((await book(a, provider.id, '2030-03-05T14:00:00Z')).status).toBe(201);
    const blocked = await b.request('POST', `/providers/${provider.id}/blocked-times`, {
      start: '2030-03-06T14:00:00Z',
      end: '2030-03-06T16:00:00Z',
      reason: 'PERSONAL',
    });
    expect(blocked.status).toBe(201);
    const count = async () => Number((await a.platform.knex('events').where({ stream_type: 'appointment' }).count<{ n: string }[]>('* as n'))[0].n);
    const before = await count();

    const refused = await book(a, provider.id, '2030-03-06T15:00:00Z');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SLOT_UNAVAILABLE');

    expect((await b.request('DELETE', `/providers/${provider.id}`)).status).toBe(204);
    const gone = await book(a, provider.id, '2030-03-06T18:00:00Z');
    expect(gone.status).toBe(422);
    expect(gone.body.code).toBe('UNKNOWN_PROVIDER');
    expect(await count()).toBe(before);
  });

  it('keeps an Idempotency-Key atomic with the booking it guards across instances', async () => {
    const provider = (await a.request('POST', '/providers', newYorkProvider())).body;
    const headers = { 'idempotency-key': 'cache-key-1', 'x-caller-id': 'caller-1' };
    const first = await book(a, provider.id, '2030-03-07T14:00:00Z', headers);
    expect(first.status).toBe(201);
    const retry = await book(b, provider.id, '2030-03-07T14:00:00Z', headers);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    const other = await book(b, provider.id, '2030-03-07T15:00:00Z', headers);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await a.platform.knex('appointments').where({ provider_id: provider.id }).count<{ n: string }[]>('* as n')).toEqual([{ n: '1' }]);
  });
});
