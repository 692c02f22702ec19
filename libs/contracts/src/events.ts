import { z } from 'zod';

const isoInstant = z.string().datetime({ offset: false });
const id = z.string().min(1).max(100);
const money = { amountMinor: z.number().int().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/) };

/** Who to tell, and in which zone and language: carried on the events so consumers never call back. */
export const contactSchema = z
  .object({
    name: z.string().max(200).optional(),
    timeZone: z.string().min(1).max(64),
    locale: z.string().max(35).optional(),
    email: z.string().email().max(320).optional(),
    phone: z.string().regex(/^\+[1-9]\d{6,14}$/).optional(),
    pushEndpoint: z.string().url().max(2000).optional(),
  })
  .passthrough();

const appointmentCore = {
  appointmentId: id,
  providerId: id,
  clientId: id,
  start: isoInstant,
  end: isoInstant,
  client: contactSchema,
  provider: contactSchema,
};

export const cancellationPolicySchema = z
  .object({
    freeUntilHoursBefore: z.number().nonnegative(),
    lateFee: z.union([
      z.object({ kind: z.literal('PERCENT'), percent: z.number().min(0).max(100) }),
      z.object({ kind: z.literal('AMOUNT'), amountMinor: z.number().int().nonnegative() }),
    ]),
    noShowForfeits: z.boolean(),
    rescheduleFreeUntilHoursBefore: z.number().nonnegative(),
  })
  .strict();

export const eventDataSchemas = {
  AppointmentRequested: z
    .object({
      ...appointmentCore,
      price: z.object(money),
      holdExpiresAt: isoInstant,
      policy: cancellationPolicySchema,
    })
    .passthrough(),
  AppointmentConfirmed: z
    .object({ ...appointmentCore, paymentId: id.nullable(), ...money })
    .passthrough(),
  AppointmentCancelled: z
    .object({
      ...appointmentCore,
      by: z.enum(['CLIENT', 'PROVIDER', 'SYSTEM']),
      reason: z.enum(['CLIENT_REQUEST', 'PROVIDER_REQUEST', 'PAYMENT_FAILED', 'EXPIRED']),
      feeMinor: z.number().int().nonnegative(),
      refundMinor: z.number().int().nonnegative(),
      currency: money.currency,
      paymentId: id.nullable(),
    })
    .passthrough(),
  AppointmentRescheduled: z
    .object({
      ...appointmentCore,
      previousStart: isoInstant,
      previousEnd: isoInstant,
      free: z.boolean(),
      feeMinor: z.number().int().nonnegative(),
      creditMinor: z.number().int().nonnegative(),
      currency: money.currency,
      paymentId: id.nullable(),
    })
    .passthrough(),
  AppointmentCompleted: z.object(appointmentCore).passthrough(),
  AppointmentMarkedNoShow: z
    .object({ ...appointmentCore, refundMinor: z.number().int().nonnegative(), currency: money.currency, paymentId: id.nullable() })
    .passthrough(),
  LatePaymentRefundRequested: z
    .object({ appointmentId: id, paymentId: id, ...money, reason: z.string().max(100) })
    .passthrough(),
  // requestEventId: the AppointmentRequested this payment answers, so the appointment can tell its own
  // payment's outcome from any other.
  PaymentSucceeded: z.object({ appointmentId: id, paymentId: id, requestEventId: z.string().uuid(), ...money }).passthrough(),
  PaymentFailed: z.object({ appointmentId: id, paymentId: id, requestEventId: z.string().uuid(), reason: z.string().max(200) }).passthrough(),
  RefundIssued: z.object({ appointmentId: id, paymentId: id, refundId: id, ...money }).passthrough(),
  CreditIssued: z.object({ appointmentId: id, paymentId: id, creditId: id, ...money }).passthrough(),
  ReminderDue: z
    .object({
      reminderId: id,
      appointmentId: id,
      channel: z.enum(['EMAIL', 'SMS', 'PUSH']),
      offsetMinutes: z.number().int().positive(),
      fireAt: isoInstant,
      start: isoInstant,
      end: isoInstant,
      client: contactSchema,
      provider: contactSchema,
    })
    .passthrough(),
  NotificationSent: z
    .object({ deliveryId: id, sourceEventId: z.string().uuid(), reminderId: id.nullable(), channel: z.enum(['EMAIL', 'SMS', 'PUSH']) })
    .passthrough(),
  NotificationFailed: z
    .object({
      deliveryId: id,
      sourceEventId: z.string().uuid(),
      reminderId: id.nullable(),
      channel: z.enum(['EMAIL', 'SMS', 'PUSH']),
      error: z.string().max(2000),
    })
    .passthrough(),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;
