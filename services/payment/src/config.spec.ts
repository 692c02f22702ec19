import { ConfigError } from '@booking/platform';
import { loadPaymentConfig } from './config';

describe('loadPaymentConfig', () => {
  it('has defaults that fit the default Kafka session', () => {
    const config = loadPaymentConfig({});
    expect(config).toMatchObject({
      PORT: 3002,
      PAYMENT_PROVIDER_LATENCY_MS: 50,
      PAYMENT_PROVIDER_TIMEOUT_MS: 1500,
      PAYMENT_PROVIDER_MAX_ATTEMPTS: 3,
      PAYMENT_DELAYED_SUCCESS_MS: 5000,
      PAYMENT_CONSUMER_MAX_ATTEMPTS: 5,
    });
    expect(loadPaymentConfig({ KAFKA_SESSION_TIMEOUT_MS: '6000' }).KAFKA_SESSION_TIMEOUT_MS).toBe(6000);
  });

  it('refuses charge attempts that could outlast the Kafka session', () => {
    expect(() => loadPaymentConfig({ PAYMENT_PROVIDER_TIMEOUT_MS: '4000', PAYMENT_PROVIDER_MAX_ATTEMPTS: '3' })).toThrow(
      /= 12200 ms must stay below KAFKA_SESSION_TIMEOUT_MS \(10000 ms\)/,
    );
  });

  it('names every bad variable at once', () => {
    let caught: unknown;
    try {
      loadPaymentConfig({ PAYMENT_PROVIDER_LATENCY_MS: '-1', PAYMENT_PROVIDER_MAX_ATTEMPTS: 'many' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      expect.stringContaining('PAYMENT_PROVIDER_LATENCY_MS="-1" is invalid'),
      expect.stringContaining('PAYMENT_PROVIDER_MAX_ATTEMPTS="many" is invalid'),
    ]);
  });

  it('refuses a consumer backoff that starts above its own ceiling', () => {
    expect(() => loadPaymentConfig({ PAYMENT_CONSUMER_INITIAL_BACKOFF_MS: '6000', PAYMENT_CONSUMER_MAX_BACKOFF_MS: '5000' })).toThrow(
      /INITIAL_BACKOFF_MS must not exceed/,
    );
  });
});
