import { formatDayHours, parseProviderRules, ProviderRules, WEEKDAYS } from '@booking/slot-engine';
import type { CancellationPolicy } from '@booking/appointment-domain';

/** The policy of a provider created without one. */
export const DEFAULT_CANCELLATION_POLICY: CancellationPolicy = {
  freeUntilHoursBefore: 24,
  lateFee: { kind: 'PERCENT', percent: 50 },
  noShowForfeits: true,
  rescheduleFreeUntilHoursBefore: 24,
};

export type ProviderContact = { email?: string; phone?: string; pushEndpoint?: string; locale?: string };

export type Provider = {
  id: string;
  name: string;
  rules: ProviderRules;
  price: { amountMinor: number; currency: string };
  cancellationPolicy: CancellationPolicy;
  contact: ProviderContact;
  version: number;
  createdAt: string;
  updatedAt: string;
};

export type ProviderRow = {
  id: string;
  name: string;
  time_zone: string;
  slot_duration_minutes: number;
  working_hours: Record<string, Array<[string, string]>>;
  date_overrides: Record<string, Array<[string, string]>>;
  buffer_before_minutes: number;
  buffer_after_minutes: number;
  minimum_notice_minutes: number;
  booking_horizon_days: number;
  price_minor: string | number;
  currency: string;
  cancellation_policy: CancellationPolicy;
  contact: ProviderContact;
  version: number;
  created_at: Date;
  updated_at: Date;
};

export function providerFromRow(row: ProviderRow): Provider {
  return {
    id: row.id,
    name: row.name,
    rules: parseProviderRules({
      timezone: row.time_zone,
      slotDurationMinutes: row.slot_duration_minutes,
      workingHours: row.working_hours,
      dateOverrides: row.date_overrides,
      bufferBeforeMinutes: row.buffer_before_minutes,
      bufferAfterMinutes: row.buffer_after_minutes,
      minimumNoticeMinutes: row.minimum_notice_minutes,
      bookingHorizonDays: row.booking_horizon_days,
    }),
    price: { amountMinor: Number(row.price_minor), currency: row.currency },
    cancellationPolicy: row.cancellation_policy,
    contact: row.contact,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function formatWorkingHours(rules: ProviderRules): Record<string, Array<[string, string]>> {
  const out: Record<string, Array<[string, string]>> = {};
  for (const day of WEEKDAYS) if (rules.workingHours[day].length) out[day] = formatDayHours(rules.workingHours[day]);
  return out;
}

function formatOverrides(rules: ProviderRules): Record<string, Array<[string, string]>> {
  const out: Record<string, Array<[string, string]>> = {};
  for (const [date, hours] of Object.entries(rules.dateOverrides)) out[date] = formatDayHours(hours);
  return out;
}

export function providerToRow(provider: Omit<Provider, 'createdAt' | 'updatedAt'>) {
  const { rules } = provider;
  return {
    id: provider.id,
    name: provider.name,
    time_zone: rules.timezone,
    slot_duration_minutes: rules.slotDurationMinutes,
    working_hours: JSON.stringify(formatWorkingHours(rules)),
    date_overrides: JSON.stringify(formatOverrides(rules)),
    buffer_before_minutes: rules.bufferBeforeMinutes,
    buffer_after_minutes: rules.bufferAfterMinutes,
    minimum_notice_minutes: rules.minimumNoticeMinutes,
    booking_horizon_days: rules.bookingHorizonDays,
    price_minor: provider.price.amountMinor,
    currency: provider.price.currency,
    cancellation_policy: JSON.stringify(provider.cancellationPolicy),
    contact: JSON.stringify(provider.contact),
    version: provider.version,
  };
}

/** What the API promises about a provider. */
export function providerResponse(provider: Provider) {
  const { rules } = provider;
  return {
    id: provider.id,
    name: provider.name,
    timeZone: rules.timezone,
    slotDurationMinutes: rules.slotDurationMinutes,
    workingHours: formatWorkingHours(rules),
    dateOverrides: formatOverrides(rules),
    bufferBeforeMinutes: rules.bufferBeforeMinutes,
    bufferAfterMinutes: rules.bufferAfterMinutes,
    minimumNoticeMinutes: rules.minimumNoticeMinutes,
    bookingHorizonDays: rules.bookingHorizonDays,
    price: provider.price,
    cancellationPolicy: provider.cancellationPolicy,
    contact: provider.contact,
    version: provider.version,
    createdAt: provider.createdAt,
    updatedAt: provider.updatedAt,
  };
}

export type ProviderResponse = ReturnType<typeof providerResponse>;
