import { ProblemError } from '@booking/platform';
import { Decision } from './authorization';

export type Allowed = Extract<Decision, { outcome: 'allow' }>;

/**
 * Turns a decision into the answer: 403 with the reason, or a 404 identical to scheduling's for a
 * missing appointment, so a caller cannot tell "not yours" from "does not exist".
 */
export function enforce(decision: Decision, appointmentId?: string): Allowed {
  switch (decision.outcome) {
    case 'allow':
      return decision;
    case 'forbidden':
      throw new ProblemError(403, 'FORBIDDEN', decision.reason);
    case 'not_found':
      throw new ProblemError(404, 'APPOINTMENT_NOT_FOUND', `No appointment with id ${appointmentId}.`);
    default:
      return decision satisfies never;
  }
}
