import { EmailMessage, PushMessage, SmsMessage } from '../channels/channel';
import { cancelled, confirmed, reminderDue, rescheduled, tokyoClient } from '../testing/fixtures';
import { composeMessage } from './compose-message';
import { NotifiableEvent } from './notifiable-event';
import { planDeliveries } from './plan-deliveries';

const settings = { organizer: { email: 'no-reply@booking.test', name: 'Booking' } };
const unfold = (ics: string) => ics.replace(/\r\n /g, '');

function compose(event: NotifiableEvent, role: 'CLIENT' | 'PROVIDER', channel: 'EMAIL' | 'SMS' | 'PUSH') {
  const planned = planDeliveries(event).find((p) => p.role === role && p.channel === channel);
  if (!planned?.address) throw new Error(`no ${role}/${channel} planned`);
  return composeMessage(event, { ...planned, address: planned.address }, 'delivery-1', settings);
}

describe('composeMessage', () => {
  it('attaches a REQUEST calendar object to a confirmation email, in UTC, versioned by the stream', () => {
    const event = confirmed({ appointmentId: 'appt-9' }, { aggregateVersion: 2 });
    const email = compose(event, 'CLIENT', 'EMAIL') as EmailMessage;
    expect(email.to).toEqual({ address: 'aiko@example.jp', name: 'Aiko Tanaka' });
    expect(email.calendar?.method).toBe('REQUEST');
    const ics = unfold(email.calendar?.content ?? '');
    expect(ics).toContain('\r\nMETHOD:REQUEST\r\n');
    expect(ics).toContain('\r\nUID:appt-9@booking\r\n');
    expect(ics).toContain('\r\nSEQUENCE:2\r\n');
    expect(ics).toContain('\r\nDTSTART:20261201T140000Z\r\n');
    expect(ics).toContain('\r\nDTEND:20261201T143000Z\r\n');
    expect(ics).toContain('\r\nSUMMARY:Appointment with Dr. Sam Smith\r\n');
    expect(ics).toContain('\r\nATTENDEE;ROLE=REQ-PARTICIPANT;CN="Aiko Tanaka":mailto:aiko@example.jp\r\n');
    const provider = compose(event, 'PROVIDER', 'EMAIL') as EmailMessage;
    expect(unfold(provider.calendar?.content ?? '')).toContain('\r\nSUMMARY:Appointment with Aiko Tanaka\r\n');
  });

  it('updates the same calendar entry on reschedule and cancellation, with a higher sequence', () => {
    const moved = compose(rescheduled({ appointmentId: 'appt-9' }, { aggregateVersion: 3 }), 'CLIENT', 'EMAIL') as EmailMessage;
    expect(moved.calendar?.method).toBe('REQUEST');
    expect(moved.calendar?.content).toContain('UID:appt-9@booking');
    expect(moved.calendar?.content).toContain('SEQUENCE:3');
    expect(moved.calendar?.content).toContain('DTSTART:20261202T140000Z');
    const gone = compose(cancelled({ appointmentId: 'appt-9' }, { aggregateVersion: 4 }), 'PROVIDER', 'EMAIL') as EmailMessage;
    expect(gone.calendar?.method).toBe('CANCEL');
    expect(gone.calendar?.content).toContain('METHOD:CANCEL');
    expect(gone.calendar?.content).toContain('STATUS:CANCELLED');
    expect(gone.calendar?.content).toContain('SEQUENCE:4');
  });

  it('sends no calendar object with reminders or for bookings that never completed', () => {
    expect((compose(reminderDue({ channel: 'EMAIL' }), 'CLIENT', 'EMAIL') as EmailMessage).calendar).toBeUndefined();
    const failed = cancelled({ by: 'SYSTEM', reason: 'EXPIRED', refundMinor: 0, feeMinor: 0 });
    expect((compose(failed, 'CLIENT', 'EMAIL') as EmailMessage).calendar).toBeUndefined();
  });

  it('puts the SMS text and the push payload together', () => {
    const event = confirmed({ appointmentId: 'appt-5', client: { ...tokyoClient, pushEndpoint: 'https://push.example/a' } });
    const sms = compose(event, 'CLIENT', 'SMS') as SmsMessage;
    expect(sms).toMatchObject({ channel: 'SMS', to: '+819012345678', deliveryId: 'delivery-1' });
    expect(sms.body).toContain('Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)');
    const push = compose(event, 'CLIENT', 'PUSH') as PushMessage;
    expect(push.endpoint).toBe('https://push.example/a');
    expect(push.payload).toEqual({
      deliveryId: 'delivery-1',
      event: 'AppointmentConfirmed',
      appointmentId: 'appt-5',
      title: 'Appointment confirmed',
      body: sms.body,
      start: '2026-12-01T14:00:00.000Z',
      end: '2026-12-01T14:30:00.000Z',
    });
  });
});
