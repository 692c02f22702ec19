export type PaymentStatus = 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

/**
 * One appointment's charge. PENDING: created, the gateway has not answered yet. PROCESSING: the gateway
 * accepted it and settles later. TIMED_OUT: the gateway never answered; nothing is emitted, so the hold
 * expires in scheduling, unless the gateway turns out to have an outcome after all (looked up for a while
 * by `ProcessingChargesPoller`), which is then reported like any other.
 */
export type Payment = {
  id: string;
  appointmentId: string;
  amountMinor: number;
  currency: string;
  status: PaymentStatus;
  idempotencyKey: string;
  providerRef: string | null;
  failureReason: string | null;
  /** aggregateVersion of the last event emitted about this payment. */
  version: number;
  /** Of the AppointmentRequested that started it, so later events (delayed settlement) keep the thread. */
  correlationId: string;
  requestEventId: string;
  createdAt: Date;
  updatedAt: Date;
};

export type RefundReason = 'LATE_PAYMENT' | 'CANCELLATION' | 'NO_SHOW';
export type RetainedFeeReason = 'CANCELLATION_FEE' | 'RESCHEDULE_FEE' | 'NO_SHOW_FORFEIT';
export type CreditReason = 'RESCHEDULED';

/** A refund, credit or retained fee: an amount of one payment, caused by one event. */
export type LedgerEntry<Reason extends string> = {
  id: string;
  paymentId: string;
  appointmentId: string;
  amountMinor: number;
  currency: string;
  reason: Reason;
  sourceEventId: string;
  sourceEventType: string;
  createdAt: Date;
};

export type Refund = LedgerEntry<RefundReason> & { requestedMinor: number; providerRef: string };
export type Credit = LedgerEntry<CreditReason>;
export type RetainedFee = LedgerEntry<RetainedFeeReason>;
