import { slotsQuery, SlotsQuery } from '@booking/contracts';
import { assertIanaZone, isLocalDate, SlotEngineValidationError } from '@booking/slot-engine';

export type { SlotsQuery };

/**
 * The slot query of the HTTP contract, plus the slot engine's checks, so that a date that is no real
 * calendar date or a zone that is not IANA's is refused under the name the client sent (the slot
 * engine checks them again).
 */
export const schedulingSlotsQuery = slotsQuery.superRefine((v, ctx) => {
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
