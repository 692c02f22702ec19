import { NotificationConfig } from '../config';
import { Channels } from './channel';
import { EmailChannel } from './email.channel';
import { PushChannel } from './push.channel';
import { SmsChannel } from './sms.channel';

export function createChannels(config: NotificationConfig): Channels {
  return {
    EMAIL: new EmailChannel({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, timeoutMs: config.NOTIFY_SEND_TIMEOUT_MS }),
    SMS: new SmsChannel({
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      from: config.TWILIO_FROM,
      apiBaseUrl: config.TWILIO_API_BASE_URL,
      timeoutMs: config.NOTIFY_SEND_TIMEOUT_MS,
    }),
    PUSH: new PushChannel({ signingSecret: config.PUSH_SIGNING_SECRET, timeoutMs: config.NOTIFY_SEND_TIMEOUT_MS, allowHttp: config.PUSH_ALLOW_HTTP }),
  };
}
