import { formatInstant, resolveAudience } from './format-time';
import { formatMoney } from './format-money';
import { buildMessage, Rendered } from './message';
import { parties } from './parties';
import type { LateRefundData } from '../deliveries/notifiable-event';

/**
 * A payment that arrived after its booking had already ended (the hold expired, or the payment was
 * first reported failed): the client was told the booking was not completed, and is now told that the
 * money is refunded in full.
 */
export function renderLateRefund(data: LateRefundData): Rendered {
  const { me, otherName, myName } = parties(data, 'CLIENT');
  const start = formatInstant(data.start, me);
  const amount = formatMoney(data.amountMinor, data.currency, resolveAudience(me).locale);
  return buildMessage({
    subject: `Payment refunded: ${amount}`,
    greetingName: myName,
    lines: [
      `Your payment of ${amount} for the booking with ${otherName} on ${start} arrived after the booking had already ended, so it was not used.`,
      `It is refunded in full: ${amount} goes back to the card you paid with.`,
    ],
    details: [
      ['Refund', amount],
      ['Booking that ended', start],
      ['Reference', data.appointmentId],
    ],
    sms: `Your late payment of ${amount} for the booking with ${otherName} on ${start} is refunded in full. Ref ${data.appointmentId}`,
    pushTitle: 'Payment refunded',
  });
}
