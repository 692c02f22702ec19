import { Knex } from 'knex';
import { ProblemError } from '@booking/platform';
import { computeSlots, localDateOf } from '@booking/slot-engine';
import { Provider } from '../providers/provider';

/**
 * Re-validates a requested start against the provider's rules and blocked time, inside the booking
 * transaction. Overlap with other appointments is not checked here: the exclusion constraint decides
 * that atomically. Returns the slot's end.
 */
export async function checkSlot(trx: Knex.Transaction, provider: Provider, start: number, now: number, end?: number): Promise<number> {
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
  const blockedFrom = new Date(start - rules.bufferBeforeMinutes * 60_000);
  const blockedTo = new Date(onGrid.end + rules.bufferAfterMinutes * 60_000);
  const blocked = await trx('blocked_times')
    .where({ provider_id: provider.id })
    .where('start_time', '<', blockedTo)
    .where('end_time', '>', blockedFrom)
    .first('id');
  if (blocked) throw new ProblemError(409, 'SLOT_UNAVAILABLE', 'Slot no longer available: the provider blocked this time.');
  return onGrid.end;
}
