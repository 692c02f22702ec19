import { z } from 'zod';
import { assertIanaZone, isLocalDate, SlotEngineValidationError } from '@booking/slot-engine';

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
    // The slot engine checks these again; here they are refused under the names the client sent.
    for (const name of ['date', 'from', 'to'] as const) {
      const value = v[name];
      if (value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value) && !isLocalDate(value)) {
        ctx.addIssue({ code: 'custom', message: `must be a real calendar date, such as 2026-12-24; got ${JSON.stringify(value)}`, path: [name] });
      }
    }
    if (v.from && v.to && isLocalDate(v.from) && isLocalDate(v.to) && v.to < v.from) {
      ctx.addIssue({ code: 'custom', message: `must not be before from (${v.from}); got ${v.to}`, path: ['to'] });
    }
    if (v.timeZone !== undefined) {
      try {
        assertIanaZone(v.timeZone, 'timeZone');
      } catch (error) {
        if (!(error instanceof SlotEngineValidationError)) throw error;
        for (const issue of error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: ['timeZone'] });
      }
    }
  });

export type SlotsQuery = z.infer<typeof slotsQuery>;
