import { Knex } from 'knex';
import { PermanentEventError } from '@booking/platform';
import { Payment } from './payment';
import { PaymentRepository } from './payment.repository';

/**
 * The captured payment an appointment event refers to: by its id when the event names one, else the
 * appointment's. A payment of another appointment, in another currency, or not captured is a
 * contradiction no retry resolves.
 */
export async function findPaymentFor(
  payments: PaymentRepository,
  db: Knex | Knex.Transaction,
  ref: { appointmentId: string; paymentId: string | null; currency: string },
): Promise<Payment | undefined> {
  const payment = ref.paymentId ? await payments.findById(db, ref.paymentId) : await payments.findByAppointment(db, ref.appointmentId);
  if (!payment) {
    if (ref.paymentId) throw new PermanentEventError(`unknown payment ${ref.paymentId}`);
    return undefined;
  }
  if (payment.appointmentId !== ref.appointmentId) {
    throw new PermanentEventError(`payment ${payment.id} belongs to appointment ${payment.appointmentId}, not ${ref.appointmentId}`);
  }
  if (payment.currency !== ref.currency) {
    throw new PermanentEventError(`payment ${payment.id} is in ${payment.currency}, the event in ${ref.currency}`);
  }
  if (payment.status !== 'SUCCEEDED') {
    if (ref.paymentId) throw new PermanentEventError(`payment ${payment.id} is ${payment.status}, nothing was captured`);
    return undefined;
  }
  return payment;
}
