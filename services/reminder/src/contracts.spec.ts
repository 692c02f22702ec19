import { samplesOf } from '@booking/contracts/testing';
import { decodeEnvelope } from '@booking/platform';
import { toSnapshot } from './appointment-events/appointment-events.handler';
import { REMINDER_CONSUMES } from './reminder-events.kafka.controller';
import { planReminders } from './reminders/reminder-plan';

const samples = samplesOf(REMINDER_CONSUMES);
const decode = (envelope: unknown) => decodeEnvelope(Buffer.from(JSON.stringify(envelope)));

describe('the reminder consumer reads every version of what it claims', () => {
  it('has samples of every type it handles', () => {
    expect(new Set(samples.map((s) => s.type))).toEqual(new Set(REMINDER_CONSUMES));
  });

  it.each(samples.filter((s) => s.type.startsWith('Appointment')).map((s) => [s.file, s] as const))('plans from %s', (_, sample) => {
    const snapshot = toSnapshot(decode(sample.envelope));
    expect(snapshot.appointmentId).toBe(sample.envelope.aggregateId);
    const planned = planReminders({ start: snapshot.start, client: snapshot.client, now: new Date('2030-03-01T10:00:00Z'), offsetsMinutes: [1440, 60], missedGraceMs: 0 });
    // The sample client can be reached by email, SMS and push, a day and an hour before.
    expect(planned).toHaveLength(6);
  });

  it.each(samples.filter((s) => s.type.startsWith('Notification')).map((s) => [s.file, s] as const))('reads the delivery outcome %s', (_, sample) => {
    const event = decode(sample.envelope);
    expect(event.data.reminderId).toBe(sample.envelope.data.reminderId);
    expect(event.data.channel).toBe(sample.envelope.data.channel);
  });
});
