import { z } from 'zod';

/** Same bounds as an appointment id on the wire (libs/contracts). */
export const listRemindersQuery = z.object({ appointmentId: z.string().min(1).max(100) }).strict();

export type ListRemindersQuery = z.infer<typeof listRemindersQuery>;
