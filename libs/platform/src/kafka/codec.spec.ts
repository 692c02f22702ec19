import { ContractRegistry, eventContracts } from '@booking/contracts';
import { goldenSamples } from '@booking/contracts/testing';
import { decodeEnvelope } from './codec';

const sample = (type: string) => goldenSamples().find((s) => s.type === type && s.version === 1)!.envelope;
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('decodeEnvelope', () => {
  it.each(goldenSamples().map((s) => [s.file, s] as const))('reads the golden sample %s', (_, s) => {
    const event = decodeEnvelope(body(s.envelope));
    expect(event.type).toBe(s.type);
    expect(event.schemaVersion).toBe(eventContracts[s.type as keyof typeof eventContracts].version);
  });

  it('accepts envelope fields it does not know, and drops them', () => {
    const event = decodeEnvelope(body({ ...sample('PaymentSucceeded'), traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }));
    expect(event).not.toHaveProperty('traceparent');
    expect(event.data.paymentId).toBe(sample('PaymentSucceeded').data.paymentId);
  });

  it('accepts data fields it does not know, nested ones too, and keeps them', () => {
    const s = sample('AppointmentRequested');
    const event = decodeEnvelope(body({ ...s, data: { ...s.data, roomNumber: 12, client: { ...(s.data.client as object), pronouns: 'they' } } }));
    expect(event.data.roomNumber).toBe(12);
    expect((event.data.client as Record<string, unknown>).pronouns).toBe('they');
  });

  it('refuses a version newer than the contracts know, saying so', () => {
    expect(() => decodeEnvelope(body({ ...sample('PaymentFailed'), schemaVersion: 2 }))).toThrow(
      'PaymentFailed schemaVersion 2 is newer than this consumer reads (1); deploy a consumer that knows it, then replay the dead letter',
    );
  });

  it('upcasts an older version to the shape the contracts describe now', () => {
    // PaymentFailed version 2 renames reason to failureCode: readers see version 2 whatever was written.
    const v2: ContractRegistry = {
      ...eventContracts,
      PaymentFailed: {
        ...eventContracts.PaymentFailed,
        version: 2,
        schema: eventContracts.PaymentFailed.schema.omit({ reason: true }).extend({ failureCode: eventContracts.PaymentFailed.schema.shape.reason }),
        upcasters: { 1: ({ reason, ...rest }) => ({ ...rest, failureCode: reason }) },
      },
    };
    const event = decodeEnvelope(body(sample('PaymentFailed')), v2);
    expect(event.schemaVersion).toBe(2);
    expect(event.data.failureCode).toBe('card_declined');
    expect(event.data).not.toHaveProperty('reason');
    expect(() => decodeEnvelope(body({ ...sample('PaymentFailed'), data: { ...sample('PaymentFailed').data, reason: 7 } }), v2)).toThrow(
      'invalid PaymentFailed data (schemaVersion 1): failureCode: Expected string, received number',
    );
  });

  it('still refuses what is not an envelope', () => {
    expect(() => decodeEnvelope(body({ ...sample('PaymentFailed'), eventId: 'nope' }))).toThrow('invalid envelope: eventId: Invalid uuid');
    expect(() => decodeEnvelope(Buffer.from('{'))).toThrow('message body is not JSON');
  });
});
