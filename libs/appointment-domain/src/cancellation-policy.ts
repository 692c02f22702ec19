import { HOUR_MS, type IsoDateTime, toMillis } from './time';
import type { Actor, Money } from './types';

export type LateFee =
  | { readonly kind: 'PERCENT'; readonly percent: number }
  | { readonly kind: 'AMOUNT'; readonly amountMinor: number };

/** Snapshotted onto the appointment when it is requested; later policy changes never affect it. */
export type CancellationPolicy = {
  /** Cancelling at or before `start - freeUntilHoursBefore` hours is free. */
  readonly freeUntilHoursBefore: number;
  /** Applied when a client cancels later than that (capped at the price, and at what was paid). */
  readonly lateFee: LateFee;
  /** A no-show keeps the whole remaining paid amount (no refund). */
  readonly noShowForfeits: boolean;
  /** Rescheduling at or before `start - rescheduleFreeUntilHoursBefore` hours is free; later costs the late fee. */
  readonly rescheduleFreeUntilHoursBefore: number;
};

export type CancellationOutcome = {
  /** True when the cancellation falls after the free window (only ever true for CLIENT). */
  readonly late: boolean;
  readonly feeMinor: number;
  readonly refundMinor: number;
};

export type RescheduleOutcome = {
  readonly free: boolean;
  readonly feeMinor: number;
  /** What stays on the (moved) appointment as credit: paid − fee. */
  readonly creditMinor: number;
};

/** The late fee the policy asks for, capped at the price. PERCENT rounds down (in the client's favour). */
export function policyLateFeeMinor(policy: CancellationPolicy, price: Money): number {
  const raw =
    policy.lateFee.kind === 'PERCENT'
      ? Math.floor((price.amountMinor * policy.lateFee.percent) / 100)
      : policy.lateFee.amountMinor;
  return Math.max(0, Math.min(raw, price.amountMinor));
}

/** True when `at` is at or before `startsAt - hours` (the boundary instant itself is free). */
export function isWithinFreeWindow(hoursBefore: number, startsAt: IsoDateTime, at: IsoDateTime): boolean {
  return toMillis(at) <= toMillis(startsAt) - hoursBefore * HOUR_MS;
}

/**
 * Fee and refund for a cancellation.
 * - PROVIDER and SYSTEM: always a full refund of what was paid, fee 0.
 * - CLIENT within the free window: full refund. Later — including after the start — the late fee
 *   applies, capped at the price and at what was paid (nothing paid → fee 0, refund 0; no debt is recorded).
 * Always: feeMinor + refundMinor === paidAmountMinor, both ≥ 0.
 */
export function computeCancellationOutcome(
  policy: CancellationPolicy,
  price: Money,
  paidAmountMinor: number,
  startsAt: IsoDateTime,
  cancelledAt: IsoDateTime,
  by: Actor,
): CancellationOutcome {
  const paid = Math.max(0, paidAmountMinor);
  const late = by === 'CLIENT' && !isWithinFreeWindow(policy.freeUntilHoursBefore, startsAt, cancelledAt);
  const feeMinor = late ? Math.min(policyLateFeeMinor(policy, price), paid) : 0;
  return { late, feeMinor, refundMinor: paid - feeMinor };
}

/**
 * Fee and credit for a reschedule. Free when done by the PROVIDER or at/before
 * `start - rescheduleFreeUntilHoursBefore` hours; otherwise the late fee is kept (capped at price and paid)
 * and the rest moves to the new slot as credit. Always: feeMinor + creditMinor === paidAmountMinor.
 */
export function computeRescheduleOutcome(
  policy: CancellationPolicy,
  price: Money,
  paidAmountMinor: number,
  startsAt: IsoDateTime,
  rescheduledAt: IsoDateTime,
  by: 'CLIENT' | 'PROVIDER',
): RescheduleOutcome {
  const paid = Math.max(0, paidAmountMinor);
  const free =
    by === 'PROVIDER' || isWithinFreeWindow(policy.rescheduleFreeUntilHoursBefore, startsAt, rescheduledAt);
  const feeMinor = free ? 0 : Math.min(policyLateFeeMinor(policy, price), paid);
  return { free, feeMinor, creditMinor: paid - feeMinor };
}

/** Problems with a policy, empty when valid. */
export function validateCancellationPolicy(policy: unknown): string[] {
  if (typeof policy !== 'object' || policy === null) return ['policy is required'];
  const p = policy as Partial<Record<keyof CancellationPolicy, unknown>>;
  const problems: string[] = [];
  const hours = (name: 'freeUntilHoursBefore' | 'rescheduleFreeUntilHoursBefore') => {
    const v = p[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) problems.push(`policy.${name} must be a number >= 0`);
  };
  hours('freeUntilHoursBefore');
  hours('rescheduleFreeUntilHoursBefore');
  if (typeof p.noShowForfeits !== 'boolean') problems.push('policy.noShowForfeits must be a boolean');
  const fee = p.lateFee as Partial<{ kind: unknown; percent: unknown; amountMinor: unknown }> | undefined;
  if (typeof fee !== 'object' || fee === null) {
    problems.push('policy.lateFee is required');
  } else if (fee.kind === 'PERCENT') {
    if (typeof fee.percent !== 'number' || !Number.isFinite(fee.percent) || fee.percent < 0 || fee.percent > 100) {
      problems.push('policy.lateFee.percent must be between 0 and 100');
    }
  } else if (fee.kind === 'AMOUNT') {
    if (!Number.isSafeInteger(fee.amountMinor) || (fee.amountMinor as number) < 0) {
      problems.push('policy.lateFee.amountMinor must be an integer >= 0');
    }
  } else {
    problems.push("policy.lateFee.kind must be 'PERCENT' or 'AMOUNT'");
  }
  return problems;
}
