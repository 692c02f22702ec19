import { randomUUID } from 'node:crypto';
import { expectKeepsContract, samplesOf } from '@booking/contracts/testing';
import { decodeEnvelope } from '@booking/platform';
import { composeMessage } from './deliveries/compose-message';
import { DeliveryRow } from './deliveries/deliveries.repository';
import { asNotifiable, NOTIFIABLE_TYPES } from './deliveries/notifiable-event';
import { deliveryOutcome } from './deliveries/notify.handler';
import { planDeliveries } from './deliveries/plan-deliveries';

const samples = samplesOf(NOTIFIABLE_TYPES);
const settings = { organizer: { email: 'no-reply@booking.test', name: 'Booking' } };

describe('notification keeps its event contracts', () => {
  it('has samples of every type it handles', () => {
    expect(new Set(samples.map((s) => s.type))).toEqual(new Set(NOTIFIABLE_TYPES));
  });

  // A late refund written before it carried the client's contact (the golden sample) concerns nobody here.
  const tellsSomebody = samples.filter((s) => asNotifiable(decodeEnvelope(Buffer.from(JSON.stringify(s.envelope)))) !== null);
  it('reads a late refund without contacts as telling nobody, and every other sample as telling somebody', () => {
    expect(samples.filter((s) => !tellsSomebody.includes(s)).map((s) => s.type)).toEqual(['LatePaymentRefundRequested']);
  });

  // The consumer reads every version of what it claims, down to the message it would send.
  it.each(tellsSomebody.map((s) => [s.file, s] as const))('reads %s and composes its messages', (_, sample) => {
    const event = asNotifiable(decodeEnvelope(Buffer.from(JSON.stringify(sample.envelope))))!;
    const planned = planDeliveries(event);
    expect(planned.length).toBeGreaterThan(0);
    for (const delivery of planned) {
      if (delivery.address === null) continue;
      const message = composeMessage(event, { ...delivery, address: delivery.address }, randomUUID(), settings);
      expect(message.channel).toBe(delivery.channel);
    }
  });

  it.each(tellsSomebody.map((s) => [s.file, s] as const))('the outcomes of %s keep their contracts', (_, sample) => {
    const event = asNotifiable(decodeEnvelope(Buffer.from(JSON.stringify(sample.envelope))))!;
    for (const delivery of planDeliveries(event)) {
      const row = { id: randomUUID(), recipient_role: delivery.role, channel: delivery.channel } as DeliveryRow;
      expectKeepsContract(deliveryOutcome(event, row));
      expectKeepsContract(deliveryOutcome(event, row, 'mailbox full'.repeat(300)));
    }
  });
});
