import { samplesOf } from '@booking/contracts/testing';
import { decodeEnvelope } from '@booking/platform';
import { PAYMENT_CONSUMES } from './appointment-events.kafka.controller';

const samples = samplesOf(PAYMENT_CONSUMES);

describe('the payment consumer reads every version of what it claims', () => {
  it('has samples of every type it handles', () => {
    expect(new Set(samples.map((s) => s.type))).toEqual(new Set(PAYMENT_CONSUMES));
  });

  it.each(samples.map((s) => [s.file, s] as const))('%s', (_, sample) => {
    const event = decodeEnvelope(Buffer.from(JSON.stringify(sample.envelope)));
    expect(event.type).toBe(sample.type);
    // What the handlers key their work on.
    expect(event.data.appointmentId).toBe(sample.envelope.data.appointmentId);
    if (sample.type === 'AppointmentRequested') expect(event.data.paymentMethod).toBe('tok_success');
    if (sample.type === 'AppointmentMarkedNoShow') expect(event.data.forfeitedMinor).toBe(6000);
  });
});
