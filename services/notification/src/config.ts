import { z } from 'zod';
import { baseConfigShape, ConfigError, flagVariable as flag, loadConfig, portVariable, secretVariable } from '@booking/platform/config';

const milliseconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** `Name <address>` or a bare address: what nodemailer takes as `from`. */
const mailbox = z
  .string()
  .regex(/^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, 'must be "Name <address@domain>" or "address@domain"');

export const notificationConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3003),
  /** nodemailer connection URL: smtp://host:port (STARTTLS when offered) or smtps://user:pass@host:465. Mailpit in dev. */
  SMTP_URL: z
    .string()
    .url()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .default('smtp://127.0.0.1:1025'),
  MAIL_FROM: mailbox.default('Booking <no-reply@booking.local>'),
  /** Required in production; the development defaults only let the service start without an account. */
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be an account SID (AC + 32 hex digits)').optional(),
  /** Twilio's auth tokens are 32 hex digits. */
  TWILIO_AUTH_TOKEN: secretVariable(32),
  /** The sending number (E.164) or a Messaging Service SID (MG…). */
  TWILIO_FROM: z.string().regex(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, 'must be an E.164 number or a Messaging Service SID').optional(),
  /** Where the twilio SDK sends its REST calls: the real API, or a local endpoint speaking its shape. */
  TWILIO_API_BASE_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\/[^/]+\/?$/.test(v), 'must be an http(s) origin without a path')
    .default('https://api.twilio.com'),
  /** Key of the HMAC-SHA256 signature on push webhooks (X-Booking-Signature). */
  PUSH_SIGNING_SECRET: secretVariable(32),
  /** Plain-http push endpoints are for local development and tests only. */
  PUSH_ALLOW_HTTP: flag(false),
  /** One call to one provider (SMTP, Twilio, push endpoint); kept below the Kafka session (see loadNotificationConfig). */
  NOTIFY_SEND_TIMEOUT_MS: milliseconds(100, 60000, 5000),
  /** How long a claimed delivery stays reserved for the instance sending it; after that a crash is assumed. */
  NOTIFY_LEASE_MS: milliseconds(500, 600000, 30000),
  /** Attempts per (event, recipient, channel) on transient failures before it is marked FAILED. */
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** Backoff between attempts (doubling, capped at NOTIFY_MAX_BACKOFF_MS); the consumer sleeps it. */
  NOTIFY_INITIAL_BACKOFF_MS: milliseconds(1, 60000, 500),
  NOTIFY_MAX_BACKOFF_MS: milliseconds(1, 60000, 5000),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
};

type RawConfig = z.infer<z.ZodObject<typeof notificationConfigShape>>;

export type NotificationConfig = RawConfig & {
  TWILIO_ACCOUNT_SID: string;
  TWILIO_AUTH_TOKEN: string;
  TWILIO_FROM: string;
  PUSH_SIGNING_SECRET: string;
};

const developmentDefaults = {
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'development-token',
  TWILIO_FROM: '+15005550006',
  PUSH_SIGNING_SECRET: 'development-push-signing-secret',
} as const;

export function loadNotificationConfig(env: NodeJS.ProcessEnv = process.env): NotificationConfig {
  const raw = loadConfig('notification', notificationConfigShape, env);
  const problems: string[] = [];
  const secrets = Object.keys(developmentDefaults) as (keyof typeof developmentDefaults)[];
  if (raw.NODE_ENV === 'production') {
    for (const name of secrets) if (raw[name] === undefined) problems.push(`${name} is missing: required in production`);
    // What `npm start` points the service at: the development inbox (tools/dev-inbox) catches every
    // message on this machine. Production never sends there, nor to plain-http push endpoints.
    if (isLoopbackOrigin(raw.TWILIO_API_BASE_URL)) {
      problems.push(`TWILIO_API_BASE_URL=${JSON.stringify(raw.TWILIO_API_BASE_URL)} is a loopback address (the development inbox): not in production`);
    }
    if (raw.PUSH_ALLOW_HTTP) problems.push('PUSH_ALLOW_HTTP=true is for development and tests: not in production');
  }
  if (raw.NOTIFY_SEND_TIMEOUT_MS >= raw.KAFKA_SESSION_TIMEOUT_MS) {
    // kafkajs heartbeats between messages, not during one: a send that outlasts the session gets the
    // consumer thrown out of its group and the event handed to another instance mid-send.
    problems.push(
      `NOTIFY_SEND_TIMEOUT_MS (${raw.NOTIFY_SEND_TIMEOUT_MS}) must stay below KAFKA_SESSION_TIMEOUT_MS (${raw.KAFKA_SESSION_TIMEOUT_MS})`,
    );
  }
  if (raw.NOTIFY_LEASE_MS <= 2 * raw.NOTIFY_SEND_TIMEOUT_MS) {
    // A lease that can expire while its holder is still sending lets a second instance send too.
    problems.push(`NOTIFY_LEASE_MS (${raw.NOTIFY_LEASE_MS}) must exceed twice NOTIFY_SEND_TIMEOUT_MS (${raw.NOTIFY_SEND_TIMEOUT_MS})`);
  }
  if (raw.NOTIFY_MAX_BACKOFF_MS >= raw.KAFKA_SESSION_TIMEOUT_MS) {
    problems.push(`NOTIFY_MAX_BACKOFF_MS (${raw.NOTIFY_MAX_BACKOFF_MS}) must stay below KAFKA_SESSION_TIMEOUT_MS (${raw.KAFKA_SESSION_TIMEOUT_MS})`);
  }
  if (raw.NOTIFY_INITIAL_BACKOFF_MS > raw.NOTIFY_MAX_BACKOFF_MS) {
    problems.push('NOTIFY_INITIAL_BACKOFF_MS must not exceed NOTIFY_MAX_BACKOFF_MS');
  }
  if (problems.length) throw new ConfigError('notification', problems);
  return {
    ...raw,
    TWILIO_ACCOUNT_SID: raw.TWILIO_ACCOUNT_SID ?? developmentDefaults.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: raw.TWILIO_AUTH_TOKEN ?? developmentDefaults.TWILIO_AUTH_TOKEN,
    TWILIO_FROM: raw.TWILIO_FROM ?? developmentDefaults.TWILIO_FROM,
    PUSH_SIGNING_SECRET: raw.PUSH_SIGNING_SECRET ?? developmentDefaults.PUSH_SIGNING_SECRET,
  };
}

function isLoopbackOrigin(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1';
}

/** `Booking <no-reply@x>` → { name: 'Booking', email: 'no-reply@x' }: the sender as the calendar ORGANIZER. */
export function mailboxOf(mailFrom: string): { email: string; name?: string } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(mailFrom);
  if (!match) return { email: mailFrom.trim() };
  return { email: match[2], ...(match[1] && { name: match[1] }) };
}
