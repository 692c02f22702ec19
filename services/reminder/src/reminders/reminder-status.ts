/**
 * A reminder's life (README "State machine"):
 *
 *   SCHEDULED ──claim──▶ DISPATCHED ──NotificationSent──▶ SENT (final)
 *       │                    │                              ▲
 *       │                    └──NotificationFailed──▶ FAILED ┘ a later NotificationSent
 *       └──Cancelled / Rescheduled──▶ CANCELLED (final)
 *   SKIPPED (final): its fire time had passed too long ago when the appointment was confirmed.
 *
 * SCHEDULED is the only status a worker claims from and the only one a cancellation touches.
 */
export const REMINDER_STATUSES = ['SCHEDULED', 'DISPATCHED', 'SENT', 'FAILED', 'CANCELLED', 'SKIPPED'] as const;
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];

export const CHANNELS = ['EMAIL', 'SMS', 'PUSH'] as const;
export type Channel = (typeof CHANNELS)[number];
