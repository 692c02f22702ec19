import { z } from 'zod';

/** `GET /payments?appointmentId=…`: exactly one appointment id, nothing else. */
export const getPaymentsQuery = z
  .object({
    appointmentId: z.string().min(1).max(100),
  })
  .strict();
