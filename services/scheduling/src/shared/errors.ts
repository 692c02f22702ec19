import { AppointmentDomainError } from '@booking/appointment-domain';
import { PROBLEM_CODES } from '@booking/contracts';
import { ProblemError } from '@booking/platform';
import { SlotEngineValidationError } from '@booking/slot-engine';

const SLOT_CONFLICT_CODES = new Set(['23P01', '40P01', '40001']);
const SLOT_CONFLICT_CONSTRAINTS = new Set(['appointments_no_overlap', 'appointments_one_live_per_start']);

/**
 * A lost race for a slot, whichever way Postgres reports it: the exclusion constraint (23P01), the
 * partial unique index (23505), or a deadlock / serialization failure between two conflicting inserts.
 */
export function isSlotConflict(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  if (!e?.code) return false;
  if (SLOT_CONFLICT_CODES.has(e.code)) return true;
  return e.code === '23505' && SLOT_CONFLICT_CONSTRAINTS.has(e.constraint ?? '');
}

export const slotUnavailable = () => new ProblemError(409, 'SLOT_UNAVAILABLE', 'Slot no longer available.');


/**
 * Turns the errors of the domain, the slot engine and Postgres into problems a client can act on.
 * `pathOf` names a slot-engine field as the request spells it (`timezone` → `body.timeZone`), so an
 * error's path is the field the client sent, as in every other validation error.
 */
export function toProblem(error: unknown, pathOf: (field: string) => string = (field) => field): unknown {
  if (error instanceof ProblemError) return error;
  if (isSlotConflict(error)) return slotUnavailable();
  if (error instanceof SlotEngineValidationError) {
    const issues = error.issues.map((i) => ({ path: pathOf(i.field), message: i.message }));
    return new ProblemError(400, 'VALIDATION_FAILED', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { errors: issues });
  }
  if (error instanceof AppointmentDomainError) {
    // The domain's codes are problem codes; their status is PROBLEM_CODES'.
    return new ProblemError(PROBLEM_CODES[error.code].status[0], error.code, error.message, { currentStatus: error.currentStatus });
  }
  return error;
}

export async function mapErrors<T>(work: () => Promise<T>, pathOf?: (field: string) => string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toProblem(error, pathOf);
  }
}

/** A provider's rule fields (the slot engine's names) as the provider request body names them. */
export const providerBodyPath = (field: string) => `body.${field.replace(/^timezone\b/, 'timeZone').replace(/\[(\d+)\]/g, '.$1')}`;
