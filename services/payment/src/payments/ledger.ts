/**
 * The money rules of one payment. Scheduling decides refunds, fees and credits from the policy; the
 * payment service carries them out within what the payment still holds, so no event — however wrong
 * or repeated — can give back or keep more than was captured.
 */
export type Balance = {
  capturedMinor: number;
  refundedMinor: number;
  retainedMinor: number;
};

/** What still stands behind the appointment: captured − refunded − retained. */
export function heldMinor(balance: Balance): number {
  return Math.max(0, balance.capturedMinor - balance.refundedMinor - balance.retainedMinor);
}

export type ClosingSettlement = { refundMinor: number; retainedMinor: number };

/**
 * Cancellation or no-show: the refund comes first (the client's money), then the fee from what is left.
 * `feeMinor: 'rest'` keeps whatever the refund leaves, for a closing event that does not state its fee.
 */
export function settleClosing(balance: Balance, ask: { refundMinor: number; feeMinor: number | 'rest' }): ClosingSettlement {
  const held = heldMinor(balance);
  const refundMinor = Math.min(ask.refundMinor, held);
  const left = held - refundMinor;
  return { refundMinor, retainedMinor: ask.feeMinor === 'rest' ? left : Math.min(ask.feeMinor, left) };
}

export type RescheduleSettlement = { retainedMinor: number; creditMinor: number };

/** Reschedule: the fee is kept first, the credit moves with the appointment out of what is left. */
export function settleReschedule(balance: Balance, ask: { feeMinor: number; creditMinor: number }): RescheduleSettlement {
  const held = heldMinor(balance);
  const retainedMinor = Math.min(ask.feeMinor, held);
  return { retainedMinor, creditMinor: Math.min(ask.creditMinor, held - retainedMinor) };
}
