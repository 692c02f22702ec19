import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayCharge, GatewayChargeStatus, GatewayStore } from './gateway-store';
import {
  ChargeRequest,
  ChargeResult,
  DeclineReason,
  IdempotencyKeyReuseError,
  PaymentProvider,
  RefundRejectedError,
  RefundRequest,
  RefundResult,
} from './payment-provider';

/** Card tokens the simulated gateway understands (documented in services/payment/README.md). */
export const TEST_TOKENS = {
  success: 'tok_success',
  decline: 'tok_decline',
  insufficientFunds: 'tok_insufficient_funds',
  timeout: 'tok_timeout',
  timeoutAfterCapture: 'tok_timeout_after_capture',
  successDelayed: 'tok_success_delayed',
} as const;

export type SimulatedProviderOptions = {
  latencyMs: number;
  /** How long `tok_success_delayed` stays processing. */
  delayedSuccessMs: number;
  now?: () => Date;
};

type Outcome = { status: GatewayChargeStatus; failureReason: DeclineReason | null };

const outcomes = new Map<string, Outcome>([
  [TEST_TOKENS.success, { status: 'SUCCEEDED', failureReason: null }],
  [TEST_TOKENS.decline, { status: 'FAILED', failureReason: 'card_declined' }],
  [TEST_TOKENS.insufficientFunds, { status: 'FAILED', failureReason: 'insufficient_funds' }],
  [TEST_TOKENS.successDelayed, { status: 'PROCESSING', failureReason: null }],
  [TEST_TOKENS.timeoutAfterCapture, { status: 'SUCCEEDED', failureReason: null }],
]);
const unknownToken: Outcome = { status: 'FAILED', failureReason: 'invalid_payment_method' };

/**
 * A card gateway in a box: it answers after a latency, remembers every idempotency key with its result
 * (a replay is answered from memory, never charged again), settles delayed charges later, refuses
 * refunds beyond what was captured, for `tok_timeout` never answers at all, and for
 * `tok_timeout_after_capture` captures (once, by the key) but never answers: the answer is lost on the way.
 */
export class SimulatedPaymentProvider implements PaymentProvider {
  private readonly now: () => Date;

  constructor(
    private readonly store: GatewayStore,
    private readonly options: SimulatedProviderOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult> {
    await this.network(signal);
    const paymentMethod = request.paymentMethod ?? TEST_TOKENS.success;
    if (paymentMethod === TEST_TOKENS.timeout) await unanswered(signal);
    const outcome = outcomes.get(paymentMethod) ?? unknownToken;
    const stored = await this.store.putCharge({
      idempotencyKey: request.idempotencyKey,
      chargeId: `ch_${randomUUID().replace(/-/g, '')}`,
      amountMinor: request.amountMinor,
      currency: request.currency,
      paymentMethod,
      status: outcome.status,
      failureReason: outcome.failureReason,
      completesAt: outcome.status === 'PROCESSING' ? new Date(this.now().getTime() + this.options.delayedSuccessMs) : null,
    });
    if (stored.amountMinor !== request.amountMinor || stored.currency !== request.currency || stored.paymentMethod !== paymentMethod) {
      throw new IdempotencyKeyReuseError(request.idempotencyKey);
    }
    if (paymentMethod === TEST_TOKENS.timeoutAfterCapture) await unanswered(signal);
    const current = stored.status === 'PROCESSING' ? await this.store.settleCharge(stored.idempotencyKey, this.now()) : stored;
    return toResult(current ?? stored);
  }

  async retrieveCharge(idempotencyKey: string, signal: AbortSignal): Promise<ChargeResult | undefined> {
    await this.network(signal);
    const charge = await this.store.settleCharge(idempotencyKey, this.now());
    return charge && toResult(charge);
  }

  async refund(request: RefundRequest, signal: AbortSignal): Promise<RefundResult> {
    await this.network(signal);
    if (!Number.isSafeInteger(request.amountMinor) || request.amountMinor <= 0) {
      throw new RefundRejectedError(`refund amount must be a positive integer, got ${request.amountMinor}`);
    }
    const stored = await this.store.putRefund(
      {
        idempotencyKey: request.idempotencyKey,
        refundId: `re_${randomUUID().replace(/-/g, '')}`,
        chargeId: request.providerRef,
        amountMinor: request.amountMinor,
        currency: request.currency,
      },
      (charge) => {
        if (!charge) throw new RefundRejectedError(`no such charge: ${request.providerRef}`);
        if (charge.status !== 'SUCCEEDED') throw new RefundRejectedError(`charge ${charge.chargeId} is ${charge.status}, not captured`);
        if (charge.currency !== request.currency) throw new RefundRejectedError(`charge ${charge.chargeId} is in ${charge.currency}`);
        const left = charge.amountMinor - charge.refundedMinor;
        if (request.amountMinor > left) {
          throw new RefundRejectedError(`refund of ${request.amountMinor} exceeds the ${left} left on charge ${charge.chargeId}`);
        }
      },
    );
    if (stored.chargeId !== request.providerRef || stored.amountMinor !== request.amountMinor || stored.currency !== request.currency) {
      throw new IdempotencyKeyReuseError(request.idempotencyKey);
    }
    return { providerRefundRef: stored.refundId };
  }

  private async network(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs, undefined, { signal }).catch(() => signal.throwIfAborted());
  }
}

function toResult(charge: GatewayCharge): ChargeResult {
  switch (charge.status) {
    case 'SUCCEEDED':
      return { status: 'succeeded', providerRef: charge.chargeId };
    case 'FAILED':
      return { status: 'failed', providerRef: charge.chargeId, reason: (charge.failureReason ?? 'card_declined') as DeclineReason };
    case 'PROCESSING':
      return { status: 'processing', providerRef: charge.chargeId };
    default: {
      const unknown: never = charge.status;
      throw new Error(`unknown charge status ${unknown as string}`);
    }
  }
}

/** The gateway took the request and went silent: only the caller giving up ends the wait. */
function unanswered(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
