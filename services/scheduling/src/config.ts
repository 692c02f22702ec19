import { z } from 'zod';
import { baseConfigShape, flagVariable, loadConfig, portVariable } from '@booking/platform/config';

export const schedulingConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3001),
  /** An unpaid PENDING hold is cancelled (EXPIRED) after this long. */
  HOLD_TTL_SECONDS: z.coerce.number().int().min(5).max(86400).default(900),
  /** How often the expiry job looks for stale holds. */
  EXPIRY_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(600000).default(5000),
  /** Bytes of rendered slot answers kept for repeated queries (0: none); see SlotResponseCache. */
  SLOT_CACHE_MAX_BYTES: z.coerce.number().int().min(0).max(1 << 30).default(8 << 20),
  /**
   * true: a memoised slot answer is served without a database read while this instance hears no change
   * of its provider (LISTEN/NOTIFY, see AvailabilityWatch). false: every answer reads the provider's
   * version and busy ranges first (for a database reached through a transaction-mode pooler, where
   * LISTEN does not work).
   */
  SLOT_MEMO_LISTEN: flagVariable(true),
  /** Booking Idempotency-Keys are kept this long (a retry after that books anew); at least the gateway's retention. */
  IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
};

export type SchedulingConfig = ReturnType<typeof loadSchedulingConfig>;

/** The injection token of the loaded configuration. */
export const SCHEDULING_CONFIG = Symbol('SCHEDULING_CONFIG');

export function loadSchedulingConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('scheduling', schedulingConfigShape, env);
}
