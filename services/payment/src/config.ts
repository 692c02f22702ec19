import { z } from 'zod';
import { baseConfigShape, ConfigError, loadConfig, portVariable } from '@booking/platform/config';

const milliseconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const paymentConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3002),
  /** Simulated gateway: network latency added to every call. */
  PAYMENT_PROVIDER_LATENCY_MS: milliseconds(0, 10000, 50),
  /** How long one call to the gateway may take before we give up on that attempt. */
  PAYMENT_PROVIDER_TIMEOUT_MS: milliseconds(10, 60000, 1500),
  /** Charge attempts per delivery when the gateway does not answer; each reuses the idempotency key. */
  PAYMENT_PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  PAYMENT_PROVIDER_RETRY_BACKOFF_MS: milliseconds(0, 10000, 100),
  /** Simulated gateway: how long `tok_success_delayed` stays processing before it captures. */
  PAYMENT_DELAYED_SUCCESS_MS: milliseconds(0, 3600000, 5000),
  /** How often processing and timed-out charges are looked up at the gateway. */
  PAYMENT_SETTLEMENT_POLL_MS: milliseconds(10, 600000, 1000),
  /**
   * A charge the gateway never answered is looked up this long after it was made: if the gateway did
   * capture it, the capture is reported (and refunded if the hold is gone). Older ones are left to finance.
   */
  PAYMENT_TIMEOUT_RECONCILE_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  /** Deliveries of one event before it is dead-lettered. */
  PAYMENT_CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  PAYMENT_CONSUMER_INITIAL_BACKOFF_MS: milliseconds(1, 60000, 200),
  PAYMENT_CONSUMER_MAX_BACKOFF_MS: milliseconds(1, 300000, 5000),
  /** Appointments of one partition charged at the same time (one appointment's events always in order). */
  PAYMENT_CONSUMER_KEY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
};

export type PaymentConfig = ReturnType<typeof loadPaymentConfig>;

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig('payment', paymentConfigShape, env);
  const problems = [...chargeFitsInSession(config)];
  if (config.PAYMENT_CONSUMER_INITIAL_BACKOFF_MS > config.PAYMENT_CONSUMER_MAX_BACKOFF_MS) {
    problems.push('PAYMENT_CONSUMER_INITIAL_BACKOFF_MS must not exceed PAYMENT_CONSUMER_MAX_BACKOFF_MS');
  }
  if (problems.length) throw new ConfigError('payment', problems);
  return config;
}

/**
 * kafkajs heartbeats between messages, not during one: a charge whose attempts outlast the session
 * would get the consumer thrown out of its group mid-charge, and the charge redelivered elsewhere.
 */
function chargeFitsInSession(config: z.infer<z.ZodObject<typeof paymentConfigShape>>): string[] {
  const attempts = config.PAYMENT_PROVIDER_MAX_ATTEMPTS;
  const worstCase = attempts * config.PAYMENT_PROVIDER_TIMEOUT_MS + (attempts - 1) * config.PAYMENT_PROVIDER_RETRY_BACKOFF_MS;
  if (worstCase < config.KAFKA_SESSION_TIMEOUT_MS) return [];
  return [
    `PAYMENT_PROVIDER_MAX_ATTEMPTS × PAYMENT_PROVIDER_TIMEOUT_MS (+ backoff) = ${worstCase} ms must stay below ` +
      `KAFKA_SESSION_TIMEOUT_MS (${config.KAFKA_SESSION_TIMEOUT_MS} ms)`,
  ];
}

/** Nest injection token of the loaded PaymentConfig. */
export const PAYMENT_CONFIG = Symbol('PaymentConfig');
