import { DevInbox, InboxMessage } from '@booking/dev-inbox';
import { loadNotificationConfig } from '../config';
import { buildIcs } from '../ics/build-ics';
import { createChannels } from './create-channels';

/**
 * The development inbox `npm start` runs (tools/dev-inbox): the service's own channels, configured the
 * way scripts/start.sh configures them, deliver mail, SMS and push to it, and its page shows each.
 */
describe('development inbox (libs/dev-inbox) with the real channels', () => {
  const inbox = new DevInbox({ httpPort: 0, smtpPort: 0 });
  let url: string;
  let channels: ReturnType<typeof createChannels>;

  beforeAll(async () => {
    const started = await inbox.start();
    url = started.url;
    // start.sh: SMTP_URL, TWILIO_API_BASE_URL and PUSH_ALLOW_HTTP point at the inbox; the rest are the development defaults.
    channels = createChannels(loadNotificationConfig({ SMTP_URL: started.smtpUrl, TWILIO_API_BASE_URL: url, PUSH_ALLOW_HTTP: 'true', NOTIFY_SEND_TIMEOUT_MS: '3000' }));
  });

  afterAll(() => inbox.stop());

  const ics = buildIcs({
    method: 'REQUEST',
    uid: 'appt-9@booking',
    sequence: 1,
    stamp: '2026-11-20T10:00:00.000Z',
    start: '2026-12-01T14:00:00.000Z',
    end: '2026-12-01T14:30:00.000Z',
    summary: 'Appointment with Dr. Sam Smith',
    organizer: { email: 'no-reply@booking.local' },
  });

  it('catches mail, SMS and push and lists each with its body and .ics', async () => {
    await channels.EMAIL.send({
      channel: 'EMAIL',
      deliveryId: 'd-mail-1',
      to: { address: 'lena@example.de', name: 'Lena' },
      subject: 'Termin bestätigt <script>alert(1)</script>',
      text: 'Beginn: Dienstag, 1. Dezember 2026 um 15:00 MEZ (Europe/Berlin)',
      html: '<p>Beginn: Dienstag, 1. Dezember 2026</p><script>alert(1)</script>',
      calendar: { method: 'REQUEST', content: ics },
    });
    const sms = await channels.SMS.send({ channel: 'SMS', deliveryId: 'd-sms-1', to: '+4915112345678', body: 'Termin bestätigt: 1. Dez. 2026, 15:00 MEZ' });
    expect(sms.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    await channels.PUSH.send({
      channel: 'PUSH',
      deliveryId: 'd-push-1',
      endpoint: `${url}/push/provider-sam`,
      payload: { deliveryId: 'd-push-1', event: 'AppointmentConfirmed', appointmentId: 'appt-9', title: 'Appointment confirmed', body: 'Tuesday 9:00 AM EST', start: '2026-12-01T14:00:00.000Z', end: '2026-12-01T14:30:00.000Z' },
    });

    const listed = (await (await fetch(`${url}/messages.json`)).json()) as InboxMessage[];
    expect(listed.map((m) => m.kind)).toEqual(['PUSH', 'SMS', 'EMAIL']);
    const [push, text, mail] = listed;
    expect(mail).toMatchObject({
      kind: 'EMAIL',
      to: ['lena@example.de'],
      from: 'no-reply@booking.local',
      subject: 'Termin bestätigt <script>alert(1)</script>',
      deliveryId: 'd-mail-1',
      text: 'Beginn: Dienstag, 1. Dezember 2026 um 15:00 MEZ (Europe/Berlin)',
      ics: { method: 'REQUEST', content: ics },
    });
    expect(text).toMatchObject({ kind: 'SMS', to: '+4915112345678', from: '+15005550006', body: 'Termin bestätigt: 1. Dez. 2026, 15:00 MEZ', accountSid: `AC${'0'.repeat(32)}` });
    expect(push).toMatchObject({ kind: 'PUSH', endpoint: '/push/provider-sam', deliveryId: 'd-push-1', payload: { title: 'Appointment confirmed' } });
    expect((push as { signature?: string }).signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('3 messages');
    expect(html).toContain('Termin bestätigt &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('Beginn: Dienstag, 1. Dezember 2026 um 15:00 MEZ (Europe/Berlin)');
    expect(html).toContain('to +4915112345678');
    expect(html).toContain('/push/provider-sam');
    expect(html).toContain(`href="/messages/${mail.id}/invite.ics"`);
    expect(html).toContain('UID:appt-9@booking');

    const invite = await fetch(`${url}/messages/${mail.id}/invite.ics`);
    expect(invite.headers.get('content-type')).toBe('text/calendar; charset=utf-8; method=REQUEST');
    expect(await invite.text()).toBe(ics);
    const body = await fetch(`${url}/messages/${mail.id}/body.html`);
    expect(body.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'/);

    const filtered = await (await fetch(`${url}/?to=${encodeURIComponent('+4915112345678')}`)).text();
    expect(filtered).toContain('1 message to +4915112345678');
    expect(filtered).not.toContain('lena@example.de');
  });

  it('answers what it does not speak with a 4xx, and a Messages API call without To with a Twilio error', async () => {
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/push/x`, { method: 'POST', body: 'not json' })).status).toBe(400);
    const noTo = await fetch(`${url}/2010-04-01/Accounts/AC${'0'.repeat(32)}/Messages.json`, { method: 'POST', body: 'Body=hi' });
    expect(noTo.status).toBe(400);
    expect(await noTo.json()).toMatchObject({ code: 21602 });
    expect((await fetch(`${url}/messages/000000000000/invite.ics`)).status).toBe(404);
  });
});
