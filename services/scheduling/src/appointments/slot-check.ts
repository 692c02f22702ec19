import { Knex } from 'knex';
import { ProblemError } from '@booking/platform';
import { computeSlots, localDateOf } from '@booking/slot-engine';
import { Provider } from '../providers/provider';

/** The real-time range a slot blocks: the slot plus the provider's buffers. */
export function blockedRangeOf(provider: Provider, start: number, end: number): { from: Date; to: Date } {
  return {
    from: new Date(start - provider.rules.bufferBeforeMinutes * 60_000),
    to: new Date(end + provider.rules.bufferAfterMinutes * 60_000),
  };
}

/**
 * Re-validates a requested start against the provider's rules alone (grid, length, notice, horizon):
 * pure, no I/O. Blocked time and other appointments are checked by the statement that writes the
 * booking. Returns the slot's end.
 */
export function validateSlot(provider: Provider, start: number, now: number, end?: number): number {
  const { rules } = provider;
  const date = localDateOf(start, rules.timezone);
  const onGrid = computeSlots({
    rules: { ...rules, minimumNoticeMinutes: 0, bookingHorizonDays: 730 },
    busy: [],
    from: date,
    to: date,
    now: start,
  }).find((slot) => slot.start === start);
  const iso = new Date(start).toISOString();
  if (!onGrid) {
    throw new ProblemError(
      422,
      'SLOT_NOT_ON_GRID',
      `${iso} is not a slot of this provider: slots are ${rules.slotDurationMinutes} minutes long and start on the grid of the working hours in ${rules.timezone}.`,
    );
  }
  if (end !== undefined && end !== onGrid.end) {
    throw new ProblemError(422, 'SLOT_LENGTH_MISMATCH', `end must be ${new Date(onGrid.end).toISOString()} (slots last ${rules.slotDurationMinutes} minutes).`);
  }
  if (start < now + rules.minimumNoticeMinutes * 60_000) {
    throw new ProblemError(422, 'SLOT_TOO_SOON', `${iso} is in the past or within the provider's minimum notice of ${rules.minimumNoticeMinutes} minutes.`);
  }
  if (start >= now + rules.bookingHorizonDays * 86_400_000) {
    throw new ProblemError(422, 'SLOT_BEYOND_HORIZON', `${iso} is beyond the provider's booking horizon of ${rules.bookingHorizonDays} days.`);
  }
  return onGrid.end;
}

export const slotBlocked = () => new ProblemError(409, 'SLOT_UNAVAILABLE', 'Slot no longer available: the provider blocked this time.');

/**
 * Re-validates a requested start against the provider's rules and blocked time, inside the caller's
 * transaction. Overlap with other appointments is not checked here: the exclusion constraint decides
 * that atomically. Returns the slot's end.
 */
export async function checkSlot(trx: Knex.Transaction, provider: Provider, start: number, now: number, end?: number): Promise<number> {
  const slotEnd = validateSlot(provider, start, now, end);
  const blocked = blockedRangeOf(provider, start, slotEnd);
  const hit = await trx('blocked_times')
    .where({ provider_id: provider.id })
    // As a range overlap, so that the GiST index on (provider_id, range) bounds the scan.
    .whereRaw(`tstzrange(start_time, end_time, '[)') && tstzrange(?, ?, '[)')`, [blocked.from, blocked.to])
    .first('id');
  if (hit) throw slotBlocked();
  return slotEnd;
}
