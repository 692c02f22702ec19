import { z } from 'zod';
import { baseConfigShape, loadConfig, portVariable } from '@booking/platform/config';

/** Thirty days: a reminder further ahead than that is a configuration mistake, not a reminder. */
const MAX_OFFSET_MINUTES = 43200;

const offsetsMinutes = z
  .string()
  .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'must be a comma-separated list of whole minutes, e.g. 1440,60')
  .default('1440,60')
  .transform((value) => [...new Set(value.split(',').map((part) => Number(part.trim())))].sort((a, b) => b - a))
  .refine((list) => list.every((m) => m >= 1 && m <= MAX_OFFSET_MINUTES), `every offset must be 1..${MAX_OFFSET_MINUTES} minutes`);

export const reminderConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3004),
  /** How long before the start each reminder fires, per channel. */
  REMINDER_OFFSETS_MINUTES: offsetsMinutes,
  /**
   * A reminder whose fire time is already this far in the past when the appointment is confirmed is
   * not sent (recorded as SKIPPED); a more recent one is sent at once. See README "Past fire times".
   */
  REMINDER_MISSED_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  /** Longest a worker sleeps when nothing is due; it wakes earlier for the next known fire time. */
  REMINDER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60000).default(500),
  /** Rows claimed per short transaction. */
  REMINDER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(100),
  /** Dispatch loops in this process; 0 runs consumers and HTTP only (workers elsewhere). */
  REMINDER_WORKERS: z.coerce.number().int().min(0).max(32).default(1),
};

export type ReminderConfig = ReturnType<typeof loadReminderConfig>;

export function loadReminderConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('reminder', reminderConfigShape, env);
}

/** Nest token for the loaded configuration. */
export const REMINDER_CONFIG = Symbol('REMINDER_CONFIG');
