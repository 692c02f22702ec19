import { readMail, SmtpTestServer } from '../testing/smtp-test-server';
import { buildIcs } from '../ics/build-ics';
import { DeliveryError, EmailMessage } from './channel';
import { EmailChannel } from './email.channel';

/** nodemailer against a real SMTP server on loopback. */
describe('EmailChannel (SMTP)', () => {
  const smtp = new SmtpTestServer();
  let channel: EmailChannel;

  const ics = buildIcs({
    method: 'REQUEST',
    uid: 'appt-1@booking',
    sequence: 2,
    stamp: '2026-11-20T10:00:00.000Z',
    start: '2026-12-01T14:00:00.000Z',
    end: '2026-12-01T14:30:00.000Z',
    summary: 'Appointment with Dr. Sam Smith',
    organizer: { email: 'no-reply@booking.test' },
  });
  const message = (to: string, overrides: Partial<EmailMessage> = {}): EmailMessage => ({
    channel: 'EMAIL',
    deliveryId: '0b6f5c1e-4a7d-4c3e-9a51-7f0e4f3b2a10',
    to: { address: to, name: 'Aiko Tanaka' },
    subject: 'Appointment confirmed: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo) — 予約',
    text: 'Hello Aiko,\n\nStarts: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)\n',
    html: '<p>Hello Aiko,</p><p>Starts: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)</p>',
    calendar: { method: 'REQUEST', content: ics },
    ...overrides,
  });

  beforeAll(async () => {
    const url = await smtp.start();
    channel = new EmailChannel({ smtpUrl: url, from: 'Booking <no-reply@booking.test>', timeoutMs: 2000 });
  });

  afterAll(() => smtp.stop());

  it('delivers text, HTML, the calendar alternative and the .ics attachment', async () => {
    const result = await channel.send(message('aiko@example.jp'));
    const [mail] = smtp.to('aiko@example.jp');
    expect(mail.from).toBe('no-reply@booking.test');
    const read = readMail(mail);
    expect(result.providerMessageId).toBe('<0b6f5c1e-4a7d-4c3e-9a51-7f0e4f3b2a10@booking.test>');
    expect(read.messageId).toBe('<0b6f5c1e-4a7d-4c3e-9a51-7f0e4f3b2a10@booking.test>');
    expect(read.deliveryId).toBe('0b6f5c1e-4a7d-4c3e-9a51-7f0e4f3b2a10');
    expect(read.from).toBe('Booking <no-reply@booking.test>');
    expect(read.to).toBe('Aiko Tanaka <aiko@example.jp>');
    expect(read.subject).toBe('Appointment confirmed: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo) — 予約');
    expect(read.text).toContain('Starts: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)');
    expect(read.html).toContain('<p>Starts: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)</p>');
    expect(read.calendar?.contentType).toBe('text/calendar; charset=utf-8; method=REQUEST');
    expect(read.calendar?.content).toBe(ics);
    expect(read.attachment?.disposition).toContain('attachment');
    expect(read.attachment?.content).toBe(ics);
    expect(read.attachment?.contentType).toContain('name=invite.ics');
  });

  it('reports a 4xx refusal as transient', async () => {
    smtp.refuseNext(1);
    const error = await channel.send(message('later@example.jp')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).permanent).toBe(false);
    expect((error as DeliveryError).message).toContain('451');
    expect(smtp.to('later@example.jp')).toHaveLength(0);
  });

  it('reports a rejected recipient (550) as permanent', async () => {
    smtp.reject('nobody@example.jp');
    const error = await channel.send(message('nobody@example.jp')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).permanent).toBe(true);
    expect((error as DeliveryError).message).toContain('550');
  });

  it('reports a server that is not there as transient', async () => {
    const nowhere = new EmailChannel({ smtpUrl: 'smtp://127.0.0.1:1', from: 'no-reply@booking.test', timeoutMs: 1000 });
    const error = await nowhere.send(message('aiko@example.jp')).catch((e: unknown) => e);
    expect((error as DeliveryError).permanent).toBe(false);
    expect((error as DeliveryError).message).toContain('ECONNREFUSED');
  });
});
