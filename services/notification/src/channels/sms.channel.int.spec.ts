import { TwilioApiServer } from '../testing/twilio-api-server';
import { DeliveryError, SmsMessage } from './channel';
import { SmsChannel } from './sms.channel';

/** The real twilio SDK, pointed at a local endpoint speaking the Messages API. */
describe('SmsChannel (twilio SDK)', () => {
  const accountSid = `AC${'1'.repeat(32)}`;
  const authToken = 'test-auth-token';
  const twilioApi = new TwilioApiServer(accountSid, authToken);
  let channel: SmsChannel;
  let baseUrl: string;

  const sms = (to: string): SmsMessage => ({ channel: 'SMS', deliveryId: 'd-1', to, body: 'Confirmed: Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York)' });

  beforeAll(async () => {
    baseUrl = await twilioApi.start();
    channel = new SmsChannel({ accountSid, authToken, from: '+15005550006', apiBaseUrl: baseUrl, timeoutMs: 2000 });
  });

  afterAll(() => twilioApi.stop());

  it('creates a message the way the SDK does: form-encoded POST with basic auth', async () => {
    const result = await channel.send(sms('+12125550100'));
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const [request] = twilioApi.to('+12125550100');
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    expect(request.headers['user-agent']).toMatch(/^twilio-node\/5\./);
    expect(request.form).toEqual({ To: '+12125550100', From: '+15005550006', Body: 'Confirmed: Tuesday, December 1, 2026 at 9:00 AM EST (America/New_York)' });
  });

  it('sends through a Messaging Service when TWILIO_FROM is one', async () => {
    const service = new SmsChannel({ accountSid, authToken, from: `MG${'a'.repeat(32)}`, apiBaseUrl: baseUrl, timeoutMs: 2000 });
    await service.send(sms('+12125550101'));
    expect(twilioApi.to('+12125550101')[0].form).toMatchObject({ MessagingServiceSid: `MG${'a'.repeat(32)}` });
    expect(twilioApi.to('+12125550101')[0].form.From).toBeUndefined();
  });

  it('reports an invalid number (400, 21211) as permanent', async () => {
    twilioApi.markInvalid('+15005550001');
    const error = await channel.send(sms('+15005550001')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).permanent).toBe(true);
    expect((error as DeliveryError).message).toBe("Twilio HTTP 400 error 21211: The 'To' number +15005550001 is not a valid phone number.");
  });

  it('reports 503 and 429 as transient', async () => {
    twilioApi.failNext(503, 429);
    for (const status of [503, 429]) {
      const error = await channel.send(sms('+12125550102')).catch((e: unknown) => e);
      expect((error as DeliveryError).permanent).toBe(false);
      expect((error as DeliveryError).message).toContain(`HTTP ${status}`);
    }
  });

  it('reports wrong credentials as permanent and an unreachable API as transient', async () => {
    const wrong = new SmsChannel({ accountSid, authToken: 'wrong', from: '+15005550006', apiBaseUrl: baseUrl, timeoutMs: 2000 });
    expect(((await wrong.send(sms('+12125550103')).catch((e: unknown) => e)) as DeliveryError).message).toContain('error 20003');
    const nowhere = new SmsChannel({ accountSid, authToken, from: '+15005550006', apiBaseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 });
    const error = (await nowhere.send(sms('+12125550103')).catch((e: unknown) => e)) as DeliveryError;
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('Twilio unreachable');
  });
});
