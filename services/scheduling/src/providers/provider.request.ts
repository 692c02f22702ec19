import { z } from 'zod';
import { instant } from '../shared/instant';

const money = z
  .object({
    amountMinor: z.number().int().min(0).max(100_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
  })
  .strict();

export const cancellationPolicyRequest = z
  .object({
    freeUntilHoursBefore: z.number().min(0).max(8760),
    lateFee: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('PERCENT'), percent: z.number().min(0).max(100) }).strict(),
      z.object({ kind: z.literal('AMOUNT'), amountMinor: z.number().int().min(0).max(100_000_000) }).strict(),
    ]),
    noShowForfeits: z.boolean(),
    rescheduleFreeUntilHoursBefore: z.number().min(0).max(8760),
  })
  .strict();

export const DEFAULT_CANCELLATION_POLICY = {
  freeUntilHoursBefore: 24,
  lateFee: { kind: 'PERCENT' as const, percent: 50 },
  noShowForfeits: true,
  rescheduleFreeUntilHoursBefore: 24,
};

const contact = z
  .object({
    email: z.string().email().max(320).optional(),
    phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +12125550123').optional(),
    pushEndpoint: z.string().url().max(2000).optional(),
    locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag such as en-US').optional(),
  })
  .strict();

/**
 * The shape of a provider. Availability rules (zone, hours, overrides, buffers, notice, horizon) are
 * checked in depth by the slot engine's parser after this first pass on types and sizes.
 */
const providerFields = {
  name: z.string().trim().min(1).max(200),
  timeZone: z.string().min(1).max(64),
  slotDurationMinutes: z.number().int(),
  workingHours: z.record(z.unknown()),
  dateOverrides: z.record(z.unknown()).optional(),
  bufferBeforeMinutes: z.number().int().optional(),
  bufferAfterMinutes: z.number().int().optional(),
  minimumNoticeMinutes: z.number().int().max(525_600).optional(),
  bookingHorizonDays: z.number().int().optional(),
  price: money.optional(),
  cancellationPolicy: cancellationPolicyRequest.optional(),
  contact: contact.optional(),
};

export const createProviderRequest = z.object({ id: z.string().uuid().optional(), ...providerFields }).strict();
export const updateProviderRequest = z
  .object(providerFields)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'at least one field must be given');

export type CreateProviderRequest = z.infer<typeof createProviderRequest>;
export type UpdateProviderRequest = z.infer<typeof updateProviderRequest>;


export const addBlockedTimeRequest = z
  .object({
    start: instant,
    end: instant,
    reason: z.enum(['VACATION', 'BREAK', 'PERSONAL']),
    note: z.string().max(500).optional(),
  })
  .strict()
  .refine((v) => Date.parse(v.end) > Date.parse(v.start), { message: 'end must be after start', path: ['end'] })
  .refine((v) => Date.parse(v.end) - Date.parse(v.start) <= 366 * 86_400_000, {
    message: 'a blocked time may span at most 366 days',
    path: ['end'],
  });

export type AddBlockedTimeRequest = z.infer<typeof addBlockedTimeRequest>;

export const rangeQuery = z
  .object({ from: instant.optional(), to: instant.optional() })
  .strict()
  .refine((v) => !v.from || !v.to || Date.parse(v.to) > Date.parse(v.from), { message: 'to must be after from', path: ['to'] });

export const listProvidersQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().uuid().optional(),
  })
  .strict();
