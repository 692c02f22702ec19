import { z } from 'zod';
import {
  cancellationPolicy,
  cancellationPolicyResponse,
  email,
  instant,
  instantOut,
  locale,
  localDate,
  money,
  moneyResponse,
  phone,
  pushEndpoint,
  timeZone,
  uuid,
} from './common';

/*
 * Providers, blocked time and slots: what the gateway accepts under /v1/providers and sends on to
 * scheduling's /providers unchanged, and what scheduling answers. The slot engine (in scheduling)
 * checks the availability rules in depth after this first pass on types and sizes.
 */

const timeOfDay = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time written HH:mm (24:00 only as an end)');
const timeRange = z.tuple([timeOfDay, timeOfDay]).describe('[start, end] in the provider\'s local wall time');
const dayHours = z
  .union([timeRange, z.array(timeRange).max(48)])
  .describe('One range ["09:00","17:00"], several [["09:00","12:00"],["13:00","17:00"]], or [] for a day off');

const weekdays = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
const workingHours = z.object(Object.fromEntries(weekdays.map((day) => [day, dayHours.optional()])) as Record<(typeof weekdays)[number], z.ZodOptional<typeof dayHours>>).strict();
const dateOverrides = z.record(localDate, dayHours).describe('Provider-local date → that day\'s hours ([] = closed)');

const contact = z.object({ email: email.optional(), phone: phone.optional(), pushEndpoint: pushEndpoint.optional(), locale: locale.optional() }).strict();

const providerFields = {
  name: z.string().trim().min(1).max(200),
  timeZone,
  slotDurationMinutes: z.number().int().min(5).max(480),
  workingHours,
  dateOverrides: dateOverrides.optional(),
  bufferBeforeMinutes: z.number().int().min(0).max(240).optional(),
  bufferAfterMinutes: z.number().int().min(0).max(240).optional(),
  minimumNoticeMinutes: z.number().int().min(0).max(525_600).optional(),
  bookingHorizonDays: z.number().int().min(1).max(730).optional(),
  price: money.optional(),
  cancellationPolicy: cancellationPolicy.optional(),
  contact: contact.optional(),
};

export const createProviderRequest = z.object({ id: uuid.optional(), ...providerFields }).strict();
export type CreateProviderRequest = z.infer<typeof createProviderRequest>;

export const updateProviderRequest = z
  .object(providerFields)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'at least one field must be given');
export type UpdateProviderRequest = z.infer<typeof updateProviderRequest>;

export const listProvidersQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: uuid.optional(),
  })
  .strict();

export const blockedTimeReason = z.enum(['VACATION', 'BREAK', 'PERSONAL']);

export const addBlockedTimeRequest = z
  .object({
    start: instant,
    end: instant,
    reason: blockedTimeReason,
    note: z.string().max(500).optional(),
  })
  .strict()
  .refine((v) => Date.parse(v.end) > Date.parse(v.start), { message: 'end must be after start', path: ['end'] })
  .refine((v) => Date.parse(v.end) - Date.parse(v.start) <= 366 * 86_400_000, { message: 'a blocked time may span at most 366 days', path: ['end'] });
export type AddBlockedTimeRequest = z.infer<typeof addBlockedTimeRequest>;

export const blockedTimesQuery = z
  .object({ from: instant.optional(), to: instant.optional() })
  .strict()
  .refine((v) => !v.from || !v.to || Date.parse(v.to) > Date.parse(v.from), { message: 'to must be after from', path: ['to'] });

/**
 * Either one `date`, or `from` and `to` (inclusive, at most 31 days), as dates in the client's
 * `timeZone`. Scheduling adds the slot engine's checks (a real calendar date, a known zone).
 */
export const slotsQuery = z
  .object({
    date: localDate.optional(),
    from: localDate.optional(),
    to: localDate.optional(),
    timeZone: timeZone.optional().describe('The client\'s IANA zone; dates and local times are in it (default: the provider\'s)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.date && (v.from || v.to)) ctx.addIssue({ code: 'custom', message: 'give either date, or from and to, not both', path: ['date'] });
    if (!v.date && !(v.from && v.to)) ctx.addIssue({ code: 'custom', message: 'give date, or both from and to', path: ['date'] });
  });
export type SlotsQuery = z.infer<typeof slotsQuery>;

const hoursOut = z.array(z.tuple([z.string(), z.string()]));

export const providerResponse = z.object({
  id: uuid,
  name: z.string(),
  timeZone: z.string(),
  slotDurationMinutes: z.number().int(),
  workingHours: z.record(hoursOut),
  dateOverrides: z.record(hoursOut),
  bufferBeforeMinutes: z.number().int(),
  bufferAfterMinutes: z.number().int(),
  minimumNoticeMinutes: z.number().int(),
  bookingHorizonDays: z.number().int(),
  price: moneyResponse,
  cancellationPolicy: cancellationPolicyResponse,
  contact: z.object({ email: z.string().optional(), phone: z.string().optional(), pushEndpoint: z.string().optional(), locale: z.string().optional() }),
  version: z.number().int(),
  createdAt: instantOut,
  updatedAt: instantOut,
});
export type ProviderResponse = z.infer<typeof providerResponse>;

export const providersPage = z.object({ items: z.array(providerResponse), nextCursor: uuid.nullable() });

export const blockedTimeResponse = z.object({
  id: uuid,
  providerId: uuid,
  start: instantOut,
  end: instantOut,
  reason: blockedTimeReason,
  note: z.string().nullable(),
});

export const blockedTimesResponse = z.object({ items: z.array(blockedTimeResponse) });

export const slotsResponse = z.object({
  providerId: uuid,
  timeZone: z.string(),
  providerTimeZone: z.string(),
  slotDurationMinutes: z.number().int(),
  from: localDate,
  to: localDate,
  slots: z.array(
    z.object({
      start: instantOut,
      end: instantOut,
      local: z.object({ timeZone: z.string(), start: instantOut, end: instantOut, date: localDate }),
    }),
  ),
});
