import { Credit, Payment, Refund, RetainedFee } from '../payments/payment';

type Entry = { id: string; amountMinor: number; currency: string; reason: string; sourceEventId: string; createdAt: string };

export type GetPaymentsResponse = {
  appointmentId: string;
  /** null: the appointment was never charged (free, or its request not processed yet). */
  payment: {
    id: string;
    status: Payment['status'];
    amountMinor: number;
    currency: string;
    providerRef: string | null;
    failureReason: string | null;
    createdAt: string;
    updatedAt: string;
  } | null;
  refunds: (Entry & { requestedMinor: number })[];
  credits: Entry[];
  retainedFees: Entry[];
  /** captured − refunded − retained = held; creditMinor is the latest credit, null if never rescheduled. */
  balance: { capturedMinor: number; refundedMinor: number; retainedMinor: number; heldMinor: number; creditMinor: number | null } | null;
};

const entry = (e: Refund | Credit | RetainedFee): Entry => ({
  id: e.id,
  amountMinor: e.amountMinor,
  currency: e.currency,
  reason: e.reason,
  sourceEventId: e.sourceEventId,
  createdAt: e.createdAt.toISOString(),
});

export function toGetPaymentsResponse(
  appointmentId: string,
  ledger?: { payment: Payment; refunds: Refund[]; credits: Credit[]; retainedFees: RetainedFee[]; balance: NonNullable<GetPaymentsResponse['balance']> },
): GetPaymentsResponse {
  if (!ledger) return { appointmentId, payment: null, refunds: [], credits: [], retainedFees: [], balance: null };
  const { payment } = ledger;
  return {
    appointmentId,
    payment: {
      id: payment.id,
      status: payment.status,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      providerRef: payment.providerRef,
      failureReason: payment.failureReason,
      createdAt: payment.createdAt.toISOString(),
      updatedAt: payment.updatedAt.toISOString(),
    },
    refunds: ledger.refunds.map((r) => ({ ...entry(r), requestedMinor: r.requestedMinor })),
    credits: ledger.credits.map(entry),
    retainedFees: ledger.retainedFees.map(entry),
    balance: ledger.balance,
  };
}
