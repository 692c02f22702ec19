import fc from 'fast-check';
import { channelsOf, planReminders, PlanInput, PlannedReminder } from './reminder-plan';

const HOUR = 3_600_000;
const start = new Date('2031-03-10T15:00:00.000Z');
const everyChannel = { email: 'ada@example.com', phone: '+14155550100', pushEndpoint: 'https://push.example/ada' };

function plan(overrides: Partial<PlanInput>): PlannedReminder[] {
  return planReminders({
    start,
    client: everyChannel,
    now: new Date(start.getTime() - 7 * 24 * HOUR),
    offsetsMinutes: [1440, 60],
    missedGraceMs: 5 * 60_000,
    ...overrides,
  });
}

const summary = (planned: PlannedReminder[]) => planned.map((p) => `${p.channel}/${p.offsetMinutes}/${p.status}`);

describe('channelsOf', () => {
  it('plans a channel for each way the client can be reached', () => {
    expect(channelsOf(everyChannel)).toEqual(['EMAIL', 'SMS', 'PUSH']);
    expect(channelsOf({ phone: '+14155550100' })).toEqual(['SMS']);
    expect(channelsOf({})).toEqual([]);
  });
});

describe('planReminders', () => {
  it('schedules every offset on every channel a week ahead, fire time = start − offset', () => {
    const planned = plan({});
    expect(summary(planned)).toEqual([
      'EMAIL/1440/SCHEDULED',
      'PUSH/1440/SCHEDULED',
      'SMS/1440/SCHEDULED',
      'EMAIL/60/SCHEDULED',
      'PUSH/60/SCHEDULED',
      'SMS/60/SCHEDULED',
    ]);
    expect(planned[0].fireAt.toISOString()).toBe('2031-03-09T15:00:00.000Z');
    expect(planned[3].fireAt.toISOString()).toBe('2031-03-10T14:00:00.000Z');
  });

  it('plans only the channels the client has', () => {
    expect(summary(plan({ client: { email: 'ada@example.com' } }))).toEqual(['EMAIL/1440/SCHEDULED', 'EMAIL/60/SCHEDULED']);
    expect(plan({ client: {} })).toEqual([]);
  });

  it('uses the configured offsets, each once', () => {
    expect(summary(plan({ client: { phone: '+14155550100' }, offsetsMinutes: [15, 2880, 15] }))).toEqual([
      'SMS/2880/SCHEDULED',
      'SMS/15/SCHEDULED',
    ]);
  });

  it('skips the 24 h reminder of an appointment booked 3 h ahead and keeps the 1 h one', () => {
    const planned = plan({ client: { email: 'ada@example.com' }, now: new Date(start.getTime() - 3 * HOUR) });
    expect(summary(planned)).toEqual(['EMAIL/1440/SKIPPED', 'EMAIL/60/SCHEDULED']);
  });

  it('skips the 1 h reminder of an appointment booked 30 min ahead', () => {
    const planned = plan({ client: { email: 'ada@example.com' }, now: new Date(start.getTime() - 30 * 60_000) });
    expect(summary(planned)).toEqual(['EMAIL/1440/SKIPPED', 'EMAIL/60/SKIPPED']);
  });

  it('still schedules a fire time that passed within the grace period (it fires at once)', () => {
    const now = new Date(start.getTime() - 24 * HOUR + 2 * 60_000);
    const planned = plan({ client: { email: 'ada@example.com' }, now });
    expect(summary(planned)).toEqual(['EMAIL/1440/SCHEDULED', 'EMAIL/60/SCHEDULED']);
    expect(planned[0].fireAt.getTime()).toBeLessThan(now.getTime());
  });

  it('treats the grace boundary as inclusive', () => {
    const exactly = plan({ client: { email: 'a@example.com' }, now: new Date(start.getTime() - 60 * 60_000 + 5 * 60_000) });
    const oneMsLater = plan({ client: { email: 'a@example.com' }, now: new Date(start.getTime() - 60 * 60_000 + 5 * 60_000 + 1) });
    expect(summary(exactly)).toEqual(['EMAIL/1440/SKIPPED', 'EMAIL/60/SCHEDULED']);
    expect(summary(oneMsLater)).toEqual(['EMAIL/1440/SKIPPED', 'EMAIL/60/SKIPPED']);
  });

  it('sends one catch-up reminder per channel, the one closest to the start', () => {
    const planned = plan({ client: { email: 'a@example.com' }, offsetsMinutes: [70, 60], now: new Date(start.getTime() - 59 * 60_000), missedGraceMs: HOUR });
    expect(summary(planned)).toEqual(['EMAIL/70/SKIPPED', 'EMAIL/60/SCHEDULED']);
  });

  it('plans nothing once the appointment has started, even within the grace period', () => {
    const planned = plan({ client: { email: 'a@example.com' }, offsetsMinutes: [1], now: new Date(start.getTime()), missedGraceMs: HOUR });
    expect(summary(planned)).toEqual(['EMAIL/1/SKIPPED']);
  });

  it('holds its rules for any start, confirmation time, offsets and grace (property)', () => {
    const channelContact = fc.record(
      { email: fc.constant('a@example.com'), phone: fc.constant('+14155550100'), pushEndpoint: fc.constant('https://p.example/x') },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: -3 * 24 * 60, max: 3 * 24 * 60 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 3 * 24 * 60 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: HOUR }),
        channelContact,
        (minutesUntilStart, offsets, grace, client) => {
          const now = new Date(start.getTime() - minutesUntilStart * 60_000);
          const planned = planReminders({ start, client, now, offsetsMinutes: offsets, missedGraceMs: grace });
          expect(planned).toHaveLength(channelsOf(client).length * offsets.length);
          for (const p of planned) {
            expect(p.fireAt.getTime()).toBe(start.getTime() - p.offsetMinutes * 60_000);
            if (p.fireAt > now) expect(p.status).toBe('SCHEDULED');
            if (p.status === 'SCHEDULED') {
              expect(start.getTime()).toBeGreaterThan(now.getTime());
              expect(p.fireAt.getTime()).toBeGreaterThanOrEqual(now.getTime() - grace);
            }
          }
          for (const channel of channelsOf(client)) {
            const immediate = planned.filter((p) => p.channel === channel && p.status === 'SCHEDULED' && p.fireAt <= now);
            expect(immediate.length).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
