import { z } from 'zod';

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written yyyy-MM-dd');

/** Either one `date`, or `from` and `to` (inclusive, at most 31 days), in the client's `timeZone`. */
export const slotsQuery = z
  .object({
    date: localDate.optional(),
    from: localDate.optional(),
    to: localDate.optional(),
    timeZone: z.string().min(1).max(64).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.date && (v.from || v.to)) ctx.addIssue({ code: 'custom', message: 'give either date, or from and to, not both', path: ['date'] });
    if (!v.date && !(v.from && v.to)) ctx.addIssue({ code: 'custom', message: 'give date, or both from and to', path: ['date'] });
  });

export type SlotsQuery = z.infer<typeof slotsQuery>;
