import twilio from 'twilio';
import { Channel, SendResult, SmsMessage } from './channel';
import { classifyTwilioError } from './classify-errors';
import { RebasedRequestClient } from './twilio-request-client';

export type SmsSettings = { accountSid: string; authToken: string; from: string; apiBaseUrl: string; timeoutMs: number };

/** SMS through the twilio SDK's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`). */
export class SmsChannel implements Channel<SmsMessage> {
  private readonly client: twilio.Twilio;
  private readonly sender: { from: string } | { messagingServiceSid: string };

  constructor(settings: SmsSettings) {
    this.client = twilio(settings.accountSid, settings.authToken, {
      // Retries are ours (bounded, with backoff, classified); the SDK must not add its own on 429.
      autoRetry: false,
      httpClient: new RebasedRequestClient(settings.apiBaseUrl, { timeout: settings.timeoutMs, autoRetry: false }),
    });
    this.sender = settings.from.startsWith('MG') ? { messagingServiceSid: settings.from } : { from: settings.from };
  }

  async send(message: SmsMessage): Promise<SendResult> {
    try {
      const created = await this.client.messages.create({ to: message.to, body: message.body, ...this.sender });
      return { providerMessageId: created.sid };
    } catch (error) {
      throw classifyTwilioError(error);
    }
  }
}
