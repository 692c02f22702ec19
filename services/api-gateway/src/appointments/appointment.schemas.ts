import { z } from 'zod';
import { cancellationPolicyResponse, email, instant, instantOut, locale, moneyResponse, phone, timeZone, uuid } from '../shared/schemas';

const appointmentStatus = z.enum(['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPLETED', 'NO_SHOW']);
const clientId = z.string().min(1).max(100);

export const bookAppointmentRequest = z
  .object({
    providerId: uuid,
    clientId: clientId.describe('A client may only give their own (the token\'s client_id)'),
    start: instant,
    end: instant.optional().describe('When given it must equal start + the provider\'s slot duration'),
    client: z
      .object({
        timeZone,
        name: z.string().max(200).optional(),
        email: email.optional(),
        phone: phone.optional(),
        pushEndpoint: z.string().url().max(2000).optional(),
        locale: locale.optional(),
      })
      .strict(),
    paymentMethod: z.string().min(1).max(100).optional().describe('A payment method token for the payment service, e.g. tok_success'),
  })
  .strict();

export const rescheduleAppointmentRequest = z.object({ start: instant }).strict();

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
    pushToken: z.string().optional(),
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
