import { cancelled, confirmed, lateRefund, reminderDue, rescheduled } from '../testing/fixtures';
import { renderLateRefund } from './render-late-refund';
import { formatMoney } from './format-money';
import { buildMessage, escapeHtml } from './message';
import { renderCancellation } from './render-cancellation';
import { renderConfirmation } from './render-confirmation';
import { renderReminder } from './render-reminder';
import { renderReschedule } from './render-reschedule';

const TOKYO_START = 'Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)';
const NEW_YORK_START = 'Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York)';

describe('renderConfirmation', () => {
  const event = confirmed({ appointmentId: 'appt-1' });

  it('tells the Tokyo client Tokyo time, with what was paid', () => {
    const message = renderConfirmation(event.data, 'CLIENT');
    expect(message.subject).toBe(`Appointment confirmed: ${TOKYO_START}`);
    expect(message.text).toContain('Hello Aiko Tanaka,');
    expect(message.text).toContain('Your appointment with Dr. Sam Smith is confirmed.');
    expect(message.text).toContain(`Starts: ${TOKYO_START}`);
    expect(message.text).toContain('Ends: Tuesday, December 1, 2026 at 11:30 PM GMT+9 (Asia/Tokyo)');
    expect(message.text).toContain('Paid: ¥150,000');
    expect(message.text).toContain('Reference: appt-1');
    expect(message.sms).toBe(`Confirmed: your appointment with Dr. Sam Smith on ${TOKYO_START} (30 minutes). Ref appt-1`);
    expect(message.push).toEqual({ title: 'Appointment confirmed', body: message.sms });
  });

  it('tells the New York provider New York time, without the payment', () => {
    const message = renderConfirmation(event.data, 'PROVIDER');
    expect(message.subject).toBe(`New booking: ${NEW_YORK_START}`);
    expect(message.text).toContain('Hello Dr. Sam Smith,');
    expect(message.text).toContain('Aiko Tanaka booked an appointment with you.');
    expect(message.text).toContain(`Starts: ${NEW_YORK_START}`);
    expect(message.text).not.toContain('Paid');
    expect(message.sms).toBe(`New booking: Aiko Tanaka on ${NEW_YORK_START} (30 minutes). Ref appt-1`);
  });

  it('puts the same facts in the HTML part, escaped', () => {
    const message = renderConfirmation(confirmed({ provider: { timeZone: 'UTC', name: '<script>Eve</script> & Co' } }).data, 'CLIENT');
    expect(message.html).toContain('Your appointment with &lt;script&gt;Eve&lt;/script&gt; &amp; Co is confirmed.');
    expect(message.html).not.toContain('<script>');
    expect(message.html).toContain(`<td>${TOKYO_START}</td>`);
  });

  it('uses neutral words when a contact has no name', () => {
    const message = renderConfirmation(confirmed({ client: { timeZone: 'Asia/Tokyo' } }).data, 'PROVIDER');
    expect(message.text).toContain('A client booked an appointment with you.');
    expect(renderConfirmation(confirmed({ client: { timeZone: 'Asia/Tokyo' } }).data, 'CLIENT').text).toContain('Hello there,');
  });
});

describe('renderCancellation', () => {
  it('tells the client who cancelled, the refund and the fee, in the client’s currency format', () => {
    const message = renderCancellation(cancelled({ appointmentId: 'appt-2' }).data, 'CLIENT');
    expect(message.subject).toBe(`Appointment cancelled: ${TOKYO_START}`);
    expect(message.text).toContain('You cancelled your appointment with Dr. Sam Smith. A refund of ¥120,000 is on its way.');
    expect(message.text).toContain('Refund: ¥120,000');
    expect(message.text).toContain('Cancellation fee: ¥30,000');
  });

  it('tells the provider in New York time, without the client’s money', () => {
    const message = renderCancellation(cancelled().data, 'PROVIDER');
    expect(message.text).toContain('Aiko Tanaka cancelled the appointment with you.');
    expect(message.text).toContain(`Was due to start: ${NEW_YORK_START}`);
    expect(message.text).not.toContain('Refund');
  });

  it('explains a booking that never completed', () => {
    const message = renderCancellation(cancelled({ by: 'SYSTEM', reason: 'PAYMENT_FAILED', refundMinor: 0, feeMinor: 0 }).data, 'CLIENT');
    expect(message.subject).toBe(`Booking not completed: ${TOKYO_START}`);
    expect(message.text).toContain('was not completed because the payment did not go through');
    expect(message.text).not.toContain('Refund');
  });

  it('formats minor units by the currency’s exponent', () => {
    expect(formatMoney(4550, 'USD', 'en-US')).toBe('$45.50');
    expect(formatMoney(150000, 'JPY', 'en-US')).toBe('¥150,000');
    expect(formatMoney(1234, 'KWD', 'en-US')).toBe('KWD 1.234');
    expect(formatMoney(4550, 'EUR', 'de-DE')).toBe('45,50 €');
  });
});

describe('renderReschedule', () => {
  it('shows the old and the new time; across the fall-back night the abbreviation tells them apart', () => {
    const event = rescheduled({
      previousStart: '2026-11-01T05:30:00.000Z',
      previousEnd: '2026-11-01T06:00:00.000Z',
      start: '2026-11-01T06:30:00.000Z',
      end: '2026-11-01T07:00:00.000Z',
      free: false,
      feeMinor: 5000,
      currency: 'JPY',
    });
    const provider = renderReschedule(event.data, 'PROVIDER');
    expect(provider.text).toContain('Was: Sunday, November 1, 2026 at 1:30 AM EDT (America/New_York)');
    expect(provider.text).toContain('Now starts: Sunday, November 1, 2026 at 1:30 AM EST (America/New_York)');
    expect(provider.text).not.toContain('fee');
    const client = renderReschedule(event.data, 'CLIENT');
    expect(client.text).toContain('Was: Sunday, November 1, 2026 at 2:30 PM GMT+9 (Asia/Tokyo)');
    expect(client.text).toContain('Now starts: Sunday, November 1, 2026 at 3:30 PM GMT+9 (Asia/Tokyo)');
    expect(client.text).toContain('Reschedule fee: ¥5,000');
  });
});

describe('renderReminder', () => {
  it('reminds the client how far ahead, in the client’s zone', () => {
    const message = renderReminder(reminderDue({ appointmentId: 'appt-3', offsetMinutes: 60 }).data);
    expect(message.subject).toBe(`Reminder: ${TOKYO_START}`);
    expect(message.text).toContain('This is a reminder of your appointment with Dr. Sam Smith, starting in 1 hour.');
    expect(message.sms).toBe(`Reminder: your appointment with Dr. Sam Smith is on ${TOKYO_START} (in 1 hour). Ref appt-3`);
  });
});

describe('renderLateRefund', () => {
  it('tells the client, in the client\'s zone and money format, that the late payment is refunded in full', () => {
    const r = renderLateRefund(lateRefund({ appointmentId: 'appt-7' }).data);
    expect(r.subject).toBe('Payment refunded: ¥150,000');
    expect(r.text).toContain('arrived after the booking had already ended');
    expect(r.text).toContain('It is refunded in full: ¥150,000 goes back to the card you paid with.');
    expect(r.text).toContain(TOKYO_START);
    expect(r.sms).toBe(`Your late payment of ¥150,000 for the booking with Dr. Sam Smith on ${TOKYO_START} is refunded in full. Ref appt-7`);
    expect(r.push.title).toBe('Payment refunded');
  });
});

describe('buildMessage', () => {
  it('builds text and HTML from the same parts', () => {
    const message = buildMessage({ subject: 'S', lines: ['One & two'], details: [['When', 'Now']], sms: 'sms', pushTitle: 'T' });
    expect(message.text).toBe('Hello there,\n\nOne & two\n\nWhen: Now\n\n— Booking\n');
    expect(message.html).toContain('<p>One &amp; two</p>');
    expect(message.html).toContain('<th align="left" style="padding:2px 12px 2px 0">When</th><td>Now</td>');
    expect(escapeHtml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });
});
