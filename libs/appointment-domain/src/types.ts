import type { IsoDateTime } from './time';

/** Money in integer minor units (cents) with an ISO-4217 currency code. */
export type Money = { readonly amountMinor: number; readonly currency: string };

/** Who issues a command. SYSTEM = timers / payment webhooks. */
export type Actor = 'CLIENT' | 'PROVIDER' | 'SYSTEM';

export type CancellationReason = 'CLIENT_REQUEST' | 'PROVIDER_REQUEST' | 'PAYMENT_FAILED' | 'EXPIRED';

/** How to reach the client; snapshotted at booking time for notifications/reminders. */
export type ClientContact = {
  readonly timeZone: string;
  readonly email?: string;
  readonly phone?: string;
  readonly pushToken?: string;
  readonly locale?: string;
};

/** Provider details as they were at booking time (display in notifications; never used for rules). */
export type ProviderSnapshot = {
  readonly displayName?: string;
  readonly timeZone?: string;
  readonly email?: string;
  readonly phone?: string;
  /** Where the provider's push webhooks go, and the language their messages are written in (added later: optional). */
  readonly pushEndpoint?: string;
  readonly locale?: string;
  readonly serviceName?: string;
};

export type { IsoDateTime };
