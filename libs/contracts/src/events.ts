import { z } from 'zod';
import { Topic, TOPICS } from './topics';

/*
 * The data of every event type, as its producers write it today. Readers are tolerant: an object
 * keeps the fields it does not declare (passthrough) instead of refusing them, so a producer may add
 * a field without a new version. A field added later is optional, so events written before it still
 * read (contracts.spec.ts checks both directions against the frozen samples and schemas).
 */

const isoInstant = z.string().datetime({ offset: false });
const id = z.string().min(1).max(100);
const minor = z.number().int().nonnegative();
const currency = z.string().regex(/^[A-Z]{3}$/);
const money = { amountMinor: minor, currency };
const channel = z.enum(['EMAIL', 'SMS', 'PUSH']);

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
      z.object({ kind: z.literal('PERCENT'), percent: z.number().min(0).max(100) }).passthrough(),
      z.object({ kind: z.literal('AMOUNT'), amountMinor: minor }).passthrough(),
    ]),
    noShowForfeits: z.boolean(),
    rescheduleFreeUntilHoursBefore: z.number().nonnegative(),
  })
  .passthrough();

const hours = z.array(z.tuple([z.string(), z.string()]));

/** A provider as scheduling's provider events carry it (the same fields as its HTTP answer). */
const providerSnapshot = {
  id,
  name: z.string().max(200),
  timeZone: z.string().min(1).max(64),
  slotDurationMinutes: z.number().int().positive(),
  workingHours: z.record(hours),
  dateOverrides: z.record(hours),
  bufferBeforeMinutes: z.number().int().nonnegative(),
  bufferAfterMinutes: z.number().int().nonnegative(),
  minimumNoticeMinutes: z.number().int().nonnegative(),
  bookingHorizonDays: z.number().int().positive(),
  price: z.object(money).passthrough(),
  cancellationPolicy: cancellationPolicySchema,
  contact: z
    .object({ email: z.string().optional(), phone: z.string().optional(), pushEndpoint: z.string().optional(), locale: z.string().optional() })
    .passthrough(),
  version: z.number().int().nonnegative(),
  createdAt: isoInstant,
  updatedAt: isoInstant,
};

const blockedTime = {
  id,
  providerId: id,
  start: isoInstant,
  end: isoInstant,
  reason: z.enum(['VACATION', 'BREAK', 'PERSONAL']),
  note: z.string().max(500).nullable(),
};

const notificationOutcome = {
  deliveryId: id,
  sourceEventId: z.string().uuid(),
  sourceEventType: z.string().max(100).optional().describe('Type of the event that caused the message'),
  appointmentId: id.optional(),
  reminderId: id.nullable(),
  recipientRole: z.enum(['CLIENT', 'PROVIDER']).optional(),
  channel,
};

/** The latest data schema of every event type. */
export const eventDataSchemas = {
  AppointmentRequested: z
    .object({
      ...appointmentCore,
      price: z.object(money).passthrough(),
      holdExpiresAt: isoInstant,
      policy: cancellationPolicySchema,
      paymentMethod: z.string().min(1).max(200).optional().describe('The client\'s card token for the payment service'),
    })
    .passthrough(),
  AppointmentConfirmed: z
    .object({
      ...appointmentCore,
      paymentId: id.nullable(),
      ...money,
      reason: z.enum(['PAYMENT_SUCCEEDED', 'NO_PAYMENT_REQUIRED']).optional(),
    })
    .passthrough(),
  AppointmentCancelled: z
    .object({
      ...appointmentCore,
      by: z.enum(['CLIENT', 'PROVIDER', 'SYSTEM']),
      reason: z.enum(['CLIENT_REQUEST', 'PROVIDER_REQUEST', 'PAYMENT_FAILED', 'EXPIRED']),
      feeMinor: minor,
      refundMinor: minor,
      currency,
      paymentId: id.nullable(),
    })
    .passthrough(),
  AppointmentRescheduled: z
    .object({
      ...appointmentCore,
      previousStart: isoInstant,
      previousEnd: isoInstant,
      free: z.boolean(),
      feeMinor: minor,
      creditMinor: minor,
      currency,
      paymentId: id.nullable(),
    })
    .passthrough(),
  AppointmentCompleted: z
    .object({ ...appointmentCore, settledMinor: minor.optional(), currency: currency.optional() })
    .passthrough(),
  AppointmentMarkedNoShow: z
    .object({
      ...appointmentCore,
      refundMinor: minor,
      forfeitedMinor: minor.optional().describe('Kept by the provider; absent in events written before it was declared'),
      currency,
      paymentId: id.nullable(),
    })
    .passthrough(),
  LatePaymentRefundRequested: z
    .object({
      appointmentId: id,
      paymentId: id,
      ...money,
      reason: z.string().max(100),
      // Added later (optional: events written before lack them): whom to tell that the payment is refunded.
      providerId: id.optional(),
      clientId: id.optional(),
      start: isoInstant.optional(),
      end: isoInstant.optional(),
      client: contactSchema.optional().describe('Who paid: told that the late payment is refunded'),
      provider: contactSchema.optional(),
    })
    .passthrough(),
  // requestEventId: the AppointmentRequested this payment answers, so the appointment can tell its own
  // payment's outcome from any other.
  PaymentSucceeded: z
    .object({ appointmentId: id, paymentId: id, requestEventId: z.string().uuid(), ...money, providerRef: z.string().max(200).nullable().optional() })
    .passthrough(),
  PaymentFailed: z
    .object({
      appointmentId: id,
      paymentId: id,
      requestEventId: z.string().uuid(),
      reason: z.string().max(200),
      amountMinor: minor.optional(),
      currency: currency.optional(),
      providerRef: z.string().max(200).nullable().optional(),
    })
    .passthrough(),
  RefundIssued: z
    .object({
      appointmentId: id,
      paymentId: id,
      refundId: id,
      ...money,
      reason: z.enum(['LATE_PAYMENT', 'CANCELLATION', 'NO_SHOW']).optional(),
      requestedMinor: minor.optional(),
      providerRef: z.string().max(200).optional(),
      sourceEventId: z.string().uuid().optional(),
    })
    .passthrough(),
  CreditIssued: z
    .object({
      appointmentId: id,
      paymentId: id,
      creditId: id,
      ...money,
      feeMinor: minor.optional().describe('Kept as the reschedule fee'),
      reason: z.enum(['RESCHEDULED']).optional(),
      sourceEventId: z.string().uuid().optional(),
    })
    .passthrough(),
  ReminderDue: z
    .object({
      reminderId: id,
      appointmentId: id,
      channel,
      offsetMinutes: z.number().int().positive(),
      fireAt: isoInstant,
      start: isoInstant,
      end: isoInstant,
      client: contactSchema,
      provider: contactSchema,
    })
    .passthrough(),
  NotificationSent: z.object(notificationOutcome).passthrough(),
  NotificationFailed: z.object({ ...notificationOutcome, error: z.string().max(2000) }).passthrough(),
  ProviderCreated: z.object(providerSnapshot).passthrough(),
  ProviderUpdated: z
    .object({ ...providerSnapshot, changed: z.array(z.string().max(100)).describe('The fields the update named') })
    .passthrough(),
  ProviderDeleted: z.object({ id }).passthrough(),
  BlockedTimeAdded: z.object(blockedTime).passthrough(),
  BlockedTimeRemoved: z.object(blockedTime).passthrough(),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** Turns the data of one version into the next version's shape. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

export type EventContract = {
  topic: Topic;
  /** The version producers write, and the shape every reader gets: older data is upcast to it. */
  version: number;
  schema: z.AnyZodObject;
  /** `upcasters[n]` turns version n data into version n + 1; a reader reads every version from the first it has an upcaster chain from. */
  upcasters: Readonly<Record<number, Upcaster>>;
  summary: string;
};

export type ContractRegistry = Readonly<Record<string, EventContract>>;

const contract = (topic: Topic, schema: z.AnyZodObject, summary: string): EventContract => ({ topic, version: 1, schema, upcasters: {}, summary });

/**
 * Every event type: its topic, current version, schema and upcasters. A breaking change (a field
 * removed, renamed, retyped or made required) gets the next version and an upcaster from the
 * previous one here, plus its golden sample and frozen schema in libs/contracts (README "Events").
 */
export const eventContracts = {
  AppointmentRequested: contract(TOPICS.appointment, eventDataSchemas.AppointmentRequested, 'A slot is held for a client; payment is due unless the price is 0.'),
  AppointmentConfirmed: contract(TOPICS.appointment, eventDataSchemas.AppointmentConfirmed, 'The appointment is confirmed (paid, or free).'),
  AppointmentCancelled: contract(TOPICS.appointment, eventDataSchemas.AppointmentCancelled, 'The appointment is cancelled (by someone, a failed payment or an expired hold), with the fee kept and the refund due.'),
  AppointmentRescheduled: contract(TOPICS.appointment, eventDataSchemas.AppointmentRescheduled, 'The appointment moved to a new slot; a late move keeps a fee and credits the rest.'),
  AppointmentCompleted: contract(TOPICS.appointment, eventDataSchemas.AppointmentCompleted, 'The appointment took place; the paid balance is settled.'),
  AppointmentMarkedNoShow: contract(TOPICS.appointment, eventDataSchemas.AppointmentMarkedNoShow, 'The client did not come; the policy decides what is forfeited and refunded.'),
  // Version 2 adds the parties and times (optional: version 1 lacks them), so notification can tell the
  // client the late payment is refunded. Version 1's frozen schema admits no other field, hence a new version.
  LatePaymentRefundRequested: {
    ...contract(TOPICS.appointment, eventDataSchemas.LatePaymentRefundRequested, 'A payment arrived for an appointment that no longer wants it: refund it in full.'),
    version: 2,
    upcasters: { 1: (data) => data } as Readonly<Record<number, Upcaster>>,
  },
  PaymentSucceeded: contract(TOPICS.payment, eventDataSchemas.PaymentSucceeded, 'The appointment\'s charge was captured.'),
  PaymentFailed: contract(TOPICS.payment, eventDataSchemas.PaymentFailed, 'The appointment\'s charge was refused.'),
  RefundIssued: contract(TOPICS.payment, eventDataSchemas.RefundIssued, 'Money went back to the client.'),
  CreditIssued: contract(TOPICS.payment, eventDataSchemas.CreditIssued, 'A paid balance moved with a rescheduled appointment.'),
  ReminderDue: contract(TOPICS.reminder, eventDataSchemas.ReminderDue, 'A reminder of a confirmed appointment is due on one channel.'),
  NotificationSent: contract(TOPICS.notification, eventDataSchemas.NotificationSent, 'A message was delivered to one recipient on one channel.'),
  NotificationFailed: contract(TOPICS.notification, eventDataSchemas.NotificationFailed, 'A message could not be delivered; retries are over.'),
  ProviderCreated: contract(TOPICS.provider, eventDataSchemas.ProviderCreated, 'A provider was created.'),
  ProviderUpdated: contract(TOPICS.provider, eventDataSchemas.ProviderUpdated, 'A provider\'s settings changed (future bookings only).'),
  ProviderDeleted: contract(TOPICS.provider, eventDataSchemas.ProviderDeleted, 'A provider was removed; it takes no new bookings.'),
  BlockedTimeAdded: contract(TOPICS.provider, eventDataSchemas.BlockedTimeAdded, 'Time was blocked in a provider\'s calendar.'),
  BlockedTimeRemoved: contract(TOPICS.provider, eventDataSchemas.BlockedTimeRemoved, 'A blocked time was removed.'),
} satisfies Record<EventType, EventContract>;

/** Why an event cannot be read: retrying will not help; the reason names what would. */
export class UnreadableEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableEventError';
  }
}

/**
 * The data of `type` at `version`, upcast to the contract's current version (not yet validated).
 * Undefined for a type the registry does not know: consumers skip those.
 */
export function upcastEventData(contracts: ContractRegistry, type: string, version: number, data: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!Object.hasOwn(contracts, type)) return undefined;
  const contract = contracts[type];
  if (version > contract.version) {
    throw new UnreadableEventError(
      `${type} schemaVersion ${version} is newer than this consumer reads (${contract.version}); deploy a consumer that knows it, then replay the dead letter`,
    );
  }
  let current = data;
  for (let from = version; from < contract.version; from++) {
    const upcaster = contract.upcasters[from];
    if (!upcaster) throw new UnreadableEventError(`${type} schemaVersion ${version} cannot be read: no upcaster from version ${from} to ${from + 1}`);
    try {
      current = upcaster(current);
    } catch (error) {
      throw new UnreadableEventError(`${type} schemaVersion ${version} could not be upcast from version ${from}: ${(error as Error).message}`);
    }
  }
  return current;
}
