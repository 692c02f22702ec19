import { randomBytes } from 'node:crypto';

/** Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth. */
export const TWILIO_MESSAGES_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/;

/** The message resource Twilio answers a created message with (201), as the twilio SDK reads it. */
export function twilioMessageResource(accountSid: string, form: Record<string, string>) {
  const now = new Date().toUTCString();
  const sid = `SM${randomBytes(16).toString('hex')}`;
  return {
    sid,
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: form.Body,
    to: form.To,
    from: form.From ?? null,
    messaging_service_sid: form.MessagingServiceSid ?? null,
    status: 'queued',
    direction: 'outbound-api',
    num_segments: '1',
    num_media: '0',
    price: null,
    price_unit: 'USD',
    error_code: null,
    error_message: null,
    date_created: now,
    date_updated: now,
    date_sent: null,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
  };
}
