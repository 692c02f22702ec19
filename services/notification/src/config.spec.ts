import { ConfigError } from '@booking/platform';
import { loadNotificationConfig, mailboxOf } from './config';

describe('loadNotificationConfig', () => {
  it('starts in development with local defaults', () => {
    const config = loadNotificationConfig({});
    expect(config.SMTP_URL).toBe('smtp://127.0.0.1:1025');
    expect(config.TWILIO_API_BASE_URL).toBe('https://api.twilio.com');
    expect(config.TWILIO_ACCOUNT_SID).toMatch(/^AC0{32}$/);
    expect(config.PUSH_ALLOW_HTTP).toBe(false);
  });

  it('requires the provider credentials in production, naming each', () => {
    expect(() => loadNotificationConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadNotificationConfig({ NODE_ENV: 'production' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'TWILIO_ACCOUNT_SID is missing: required in production',
        'TWILIO_AUTH_TOKEN is missing: required in production',
        'TWILIO_FROM is missing: required in production',
        'PUSH_SIGNING_SECRET is missing: required in production',
      ]);
    }
  });

  it('refuses the development inbox and plain-http push in production', () => {
    const production = {
      NODE_ENV: 'production',
      TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'f'.repeat(32),
      TWILIO_FROM: '+15005550006',
      PUSH_SIGNING_SECRET: 'e'.repeat(40),
    };
    expect(loadNotificationConfig(production).TWILIO_API_BASE_URL).toBe('https://api.twilio.com');
    // What scripts/start.sh gives a development run (the inbox of tools/dev-inbox).
    const devInbox = { TWILIO_API_BASE_URL: 'http://127.0.0.1:3005', PUSH_ALLOW_HTTP: 'true' };
    expect(loadNotificationConfig(devInbox)).toMatchObject({ TWILIO_API_BASE_URL: 'http://127.0.0.1:3005', PUSH_ALLOW_HTTP: true });
    try {
      loadNotificationConfig({ ...production, ...devInbox });
      throw new Error('accepted');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'TWILIO_API_BASE_URL="http://127.0.0.1:3005" is a loopback address (the development inbox): not in production',
        'PUSH_ALLOW_HTTP=true is for development and tests: not in production',
      ]);
    }
    for (const origin of ['http://localhost:3005', 'https://[::1]:8443', 'http://127.0.0.2']) {
      expect(() => loadNotificationConfig({ ...production, TWILIO_API_BASE_URL: origin })).toThrow('is a loopback address');
    }
  });

  it('validates formats', () => {
    expect(() => loadNotificationConfig({ SMTP_URL: 'http://mail' })).toThrow('SMTP_URL="http://mail" is invalid');
    expect(() => loadNotificationConfig({ TWILIO_ACCOUNT_SID: 'SK123' })).toThrow('TWILIO_ACCOUNT_SID="SK123" is invalid');
    expect(() => loadNotificationConfig({ TWILIO_API_BASE_URL: 'http://127.0.0.1:1/api' })).toThrow('must be an http(s) origin without a path');
    expect(() => loadNotificationConfig({ MAIL_FROM: 'nobody' })).toThrow('MAIL_FROM="nobody" is invalid');
    expect(loadNotificationConfig({ TWILIO_FROM: `MG${'a'.repeat(32)}`, PUSH_ALLOW_HTTP: 'true' })).toMatchObject({ PUSH_ALLOW_HTTP: true });
  });

  it('keeps sends and backoffs inside the Kafka session, and the lease beyond a send', () => {
    expect(() => loadNotificationConfig({ NOTIFY_SEND_TIMEOUT_MS: '10000', KAFKA_SESSION_TIMEOUT_MS: '10000', NOTIFY_LEASE_MS: '60000' })).toThrow(
      'NOTIFY_SEND_TIMEOUT_MS (10000) must stay below KAFKA_SESSION_TIMEOUT_MS (10000)',
    );
    expect(() => loadNotificationConfig({ NOTIFY_SEND_TIMEOUT_MS: '5000', NOTIFY_LEASE_MS: '8000' })).toThrow(
      'NOTIFY_LEASE_MS (8000) must exceed twice NOTIFY_SEND_TIMEOUT_MS (5000)',
    );
  });
});

describe('mailboxOf', () => {
  it('splits MAIL_FROM into the name and address calendars show as organizer', () => {
    expect(mailboxOf('Booking <no-reply@booking.test>')).toEqual({ name: 'Booking', email: 'no-reply@booking.test' });
    expect(mailboxOf('"Booking Team" <team@booking.test>')).toEqual({ name: 'Booking Team', email: 'team@booking.test' });
    expect(mailboxOf('<bare@booking.test>')).toEqual({ email: 'bare@booking.test' });
    expect(mailboxOf('plain@booking.test')).toEqual({ email: 'plain@booking.test' });
  });
});
