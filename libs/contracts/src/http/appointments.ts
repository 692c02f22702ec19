import { z } from 'zod';
import { actor, cancellationPolicyResponse, email, instant, instantOut, locale, moneyResponse, phone, pushEndpoint, timeZone, uuid } from './common';

/*
 * Appointments: what the gateway accepts under /v1/appointments, what it sends on to scheduling's
 * /appointments (the same bodies, plus `by` on the lifecycle commands, which the gateway takes from
 * the caller's token) and what scheduling answers.
 */

export const appointmentStatus = z.enum(['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPLETED', 'NO_SHOW']);
const clientId = z.string().min(1).max(100);

export const clientContactRequest = z
  .object({
    timeZone,
    name: z.string().max(200).optional(),
    email: email.optional(),
    phone: phone.optional(),
    pushEndpoint: pushEndpoint.optional(),
    locale: locale.optional(),
  })
  .strict();

export const bookAppointmentRequest = z
  .object({
    providerId: uuid,
    clientId: clientId.describe('A client may only give their own (the token\'s client_id)'),
    start: instant,
    end: instant.optional().describe('When given it must equal start + the provider\'s slot duration'),
    client: clientContactRequest,
    paymentMethod: z.string().min(1).max(100).optional().describe('A payment method token for the payment service, e.g. tok_success'),
  })
  .strict();
export type BookAppointmentRequest = z.infer<typeof bookAppointmentRequest>;

/** The gateway's `POST /v1/appointments/:id/reschedule` body: who reschedules comes from the token. */
export const publicRescheduleRequest = z.object({ start: instant }).strict();

/** Scheduling's `POST /appointments/:id/cancel` body, sent by the gateway. */
export const cancelAppointmentRequest = z.object({ by: actor }).strict();
export type CancelAppointmentRequest = z.infer<typeof cancelAppointmentRequest>;

/** Scheduling's `POST /appointments/:id/reschedule` body: the public one plus `by`, sent by the gateway. */
export const rescheduleAppointmentRequest = publicRescheduleRequest.extend({ by: actor }).strict();
export type RescheduleAppointmentRequest = z.infer<typeof rescheduleAppointmentRequest>;

export const listAppointmentsQuery = z
  .object({
    providerId: uuid.optional(),
    clientId: clientId.optional(),
    status: appointmentStatus.optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListAppointmentsQuery = z.infer<typeof listAppointmentsQuery>;

export const appointmentResponse = z.object({
  id: uuid,
  providerId: uuid,
  clientId: z.string(),
  status: appointmentStatus,
  start: instantOut,
  end: instantOut,
  local: z.object({ timeZone: z.string(), start: instantOut, end: instantOut }).describe('start and end in the client\'s zone'),
  price: moneyResponse,
  paidMinor: z.number().int(),
  feeMinor: z.number().int(),
  refundMinor: z.number().int(),
  paymentId: z.string().nullable(),
  holdExpiresAt: instantOut.nullable(),
  cancellation: z.object({ by: z.string(), reason: z.string(), at: instantOut }).nullable(),
  policy: cancellationPolicyResponse,
  client: z.object({
    timeZone: z.string(),
    email: z.string().optional(),
    phone: z.string().optional(),
    pushEndpoint: z.string().optional(),
    locale: z.string().optional(),
  }),
  version: z.number().int(),
  createdAt: instantOut,
  updatedAt: instantOut,
});
export type AppointmentResponse = z.infer<typeof appointmentResponse>;

export const appointmentsPage = z.object({ items: z.array(appointmentResponse), nextCursor: z.string().nullable() });

export const appointmentEvents = z.object({
  items: z.array(
    z.object({
      eventId: uuid,
      version: z.number().int(),
      type: z.string(),
      occurredAt: instantOut,
      correlationId: z.string().nullable(),
      data: z.record(z.unknown()),
    }),
  ),
});

/** What `POST /admin/projections/rebuild` answers (the gateway passes it on at `/v1/admin/projections/rebuild`). */
export const rebuildProjectionsResponse = z.object({ streams: z.number().int().nonnegative().describe('Appointment streams replayed') });
