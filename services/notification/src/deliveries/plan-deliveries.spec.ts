import { eventDataSchemas } from '@booking/contracts';
import { PermanentEventError } from '@booking/platform';
import { cancelled, confirmed, lateRefund, newYorkProvider, reminderDue, rescheduled, tokyoClient } from '../testing/fixtures';
import { asNotifiable } from './notifiable-event';
import { planDeliveries } from './plan-deliveries';

const summary = (planned: ReturnType<typeof planDeliveries>) => planned.map((p) => `${p.role}/${p.channel}/${p.address}`);

describe('planDeliveries', () => {
  it('sends appointment events to both parties on every channel each has', () => {
    const event = confirmed({ client: { ...tokyoClient, pushEndpoint: 'https://push.example/aiko' } });
    expect(summary(planDeliveries(event))).toEqual([
      'CLIENT/EMAIL/aiko@example.jp',
      'CLIENT/SMS/+819012345678',
      'CLIENT/PUSH/https://push.example/aiko',
      'PROVIDER/EMAIL/sam@clinic.example',
      'PROVIDER/SMS/+12125550100',
    ]);
    expect(summary(planDeliveries(rescheduled()))).toHaveLength(4);
    expect(summary(planDeliveries(cancelled()))).toHaveLength(4);
  });

  it('skips channels a contact has no address for', () => {
    const event = confirmed({ provider: { timeZone: 'America/New_York' }, client: { timeZone: 'Asia/Tokyo', email: 'a@example.jp' } });
    expect(summary(planDeliveries(event))).toEqual(['CLIENT/EMAIL/a@example.jp']);
  });

  it('tells only the client about a booking that was never confirmed', () => {
    for (const reason of ['PAYMENT_FAILED', 'EXPIRED'] as const) {
      const planned = planDeliveries(cancelled({ by: 'SYSTEM', reason, refundMinor: 0, feeMinor: 0 }));
      expect(new Set(planned.map((p) => p.role))).toEqual(new Set(['CLIENT']));
    }
  });

  it('tells the client (only) on every channel that a late payment is refunded; a late refund without contacts tells nobody', () => {
    const event = lateRefund({ client: { ...tokyoClient, pushEndpoint: 'https://push.example/aiko' } });
    expect(summary(planDeliveries(event))).toEqual(['CLIENT/EMAIL/aiko@example.jp', 'CLIENT/SMS/+819012345678', 'CLIENT/PUSH/https://push.example/aiko']);
    const { client: _c, provider: _p, start: _s, end: _e, ...old } = event.data;
    expect(asNotifiable({ ...event, data: old })).toBeNull();
  });

  it('sends a reminder to the client on its channel only, even without an address for it', () => {
    expect(summary(planDeliveries(reminderDue({ channel: 'EMAIL' })))).toEqual(['CLIENT/EMAIL/aiko@example.jp']);
    expect(summary(planDeliveries(reminderDue({ channel: 'PUSH' })))).toEqual(['CLIENT/PUSH/null']);
  });
});

describe('asNotifiable', () => {
  it('dead-letters an appointment that ends before it starts', () => {
    const event = confirmed({ start: '2026-12-01T15:00:00.000Z', end: '2026-12-01T14:00:00.000Z' });
    expect(() => asNotifiable(event)).toThrow(PermanentEventError);
    expect(() => asNotifiable({ ...event, type: 'PaymentSucceeded' })).toThrow(PermanentEventError);
    expect(asNotifiable(confirmed())).toBeDefined();
  });

  it('test fixtures satisfy the wire contracts', () => {
    for (const event of [confirmed(), cancelled(), rescheduled(), reminderDue()]) {
      expect(eventDataSchemas[event.type].safeParse(event.data).success).toBe(true);
    }
    expect(eventDataSchemas.AppointmentConfirmed.safeParse({ ...confirmed().data, provider: newYorkProvider }).success).toBe(true);
  });
});
