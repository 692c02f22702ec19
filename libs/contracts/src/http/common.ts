import { z } from 'zod';

/*
 * Building blocks of the HTTP contract between the gateway and scheduling. Both import the same zod
 * values: scheduling validates its requests with them, the gateway validates its callers' requests,
 * checks scheduling's replies and generates its OpenAPI document from them.
 */

export const uuid = z.string().uuid();

// zod's datetime accepts offsets such as +25:00 that no clock has (Date.parse gives NaN): refused here,
// before they become an invalid Date.
export const instant = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 instant with an offset, e.g. 2026-12-01T09:00:00Z' })
  .refine((v) => Number.isFinite(Date.parse(v)), 'must be a real instant (offsets lie within ±23:59)')
  .describe('ISO 8601 instant with an offset, e.g. 2026-12-01T09:00:00Z');

/**
 * An instant in scheduling's replies. zod's datetime() compiles a new RegExp on every check, which
 * for a month of slots costs milliseconds per reply; scheduling writes these with toISOString or
 * luxon, so checking the format with one precompiled pattern is enough.
 */
export const instantOut = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO 8601 instant')
  .describe('ISO 8601 instant, e.g. 2026-12-01T14:00:00.000Z');

export const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written yyyy-MM-dd')
  .describe('A calendar date, yyyy-MM-dd');

export const timeZone = z.string().min(1).max(64).describe('An IANA time zone such as Asia/Tokyo');

export const money = z
  .object({
    amountMinor: z.number().int().min(0).max(100_000_000).describe('Amount in minor units (cents)'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
  })
  .strict();

export const email = z.string().email().max(320);
export const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +12125550123');
export const locale = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag such as en-US');
export const pushEndpoint = z.string().url().max(2000);

export const cancellationPolicy = z
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

/** A cancellation policy as the API answers it (requests use the stricter `cancellationPolicy`). */
export const cancellationPolicyResponse = z.object({
  freeUntilHoursBefore: z.number(),
  lateFee: z.union([z.object({ kind: z.literal('PERCENT'), percent: z.number() }), z.object({ kind: z.literal('AMOUNT'), amountMinor: z.number() })]),
  noShowForfeits: z.boolean(),
  rescheduleFreeUntilHoursBefore: z.number(),
});

export const moneyResponse = z.object({ amountMinor: z.number().int(), currency: z.string() });

/** Who acts on an appointment: decides the policy (late fees, refunds). The gateway takes it from the token. */
export const actor = z.enum(['CLIENT', 'PROVIDER']);
