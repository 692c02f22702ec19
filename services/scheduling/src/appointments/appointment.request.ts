import { z } from 'zod';
import { instant } from '../shared/instant';


export const clientContactRequest = z
  .object({
    timeZone: z.string().min(1).max(64),
    name: z.string().max(200).optional(),
    email: z.string().email().max(320).optional(),
    phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +819012345678').optional(),
    pushEndpoint: z.string().url().max(2000).optional(),
    locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag such as ja-JP').optional(),
  })
  .strict();

export const bookAppointmentRequest = z
  .object({
    providerId: z.string().uuid(),
    clientId: z.string().min(1).max(100),
    start: instant,
    /** Optional: when given it must equal start + the provider's slot duration. */
    end: instant.optional(),
    client: clientContactRequest,
    /** A payment method token for the payment service (e.g. tok_success). */
    paymentMethod: z.string().min(1).max(100).optional(),
  })
  .strict();

export type BookAppointmentRequest = z.infer<typeof bookAppointmentRequest>;

export const cancelAppointmentRequest = z.object({ by: z.enum(['CLIENT', 'PROVIDER']) }).strict();

export const rescheduleAppointmentRequest = z
  .object({ start: instant, by: z.enum(['CLIENT', 'PROVIDER']) })
  .strict();

export const listAppointmentsQuery = z
  .object({
    providerId: z.string().uuid().optional(),
    clientId: z.string().min(1).max(100).optional(),
    status: z.enum(['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPLETED', 'NO_SHOW']).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export type ListAppointmentsQuery = z.infer<typeof listAppointmentsQuery>;
