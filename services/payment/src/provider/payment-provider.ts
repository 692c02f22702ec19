/**
 * The port to a card gateway. Every call that moves money carries an idempotency key: the gateway
 * remembers the key with its result, so a retried or replayed call never moves money twice.
 * Calls take an AbortSignal like any HTTP client; an aborted call may or may not have reached the
 * gateway, which is exactly why the key must be reused when trying again.
 */
export interface PaymentProvider {
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult>;
  /** The current state of a charge made with this key; undefined if the gateway never saw it. */
  retrieveCharge(idempotencyKey: string, signal: AbortSignal): Promise<ChargeResult | undefined>;
  refund(request: RefundRequest, signal: AbortSignal): Promise<RefundResult>;
}

export const PAYMENT_PROVIDER = Symbol('PaymentProvider');

export type ChargeRequest = {
  idempotencyKey: string;
  amountMinor: number;
  currency: string;
  /** A card token from the client's checkout (the gateway, not us, knows the card behind it); absent: the gateway's default. */
  paymentMethod?: string;
};

export type DeclineReason = 'card_declined' | 'insufficient_funds' | 'invalid_payment_method';

export type ChargeResult =
  | { status: 'succeeded'; providerRef: string }
  | { status: 'failed'; providerRef: string; reason: DeclineReason }
  /** Accepted, but the outcome comes later (3-D Secure, bank transfer…): ask again with retrieveCharge. */
  | { status: 'processing'; providerRef: string };

export type RefundRequest = {
  idempotencyKey: string;
  /** The charge to refund against. */
  providerRef: string;
  amountMinor: number;
  currency: string;
};

export type RefundResult = { providerRefundRef: string };

/** The same idempotency key came back with different parameters; a gateway refuses that outright. */
export class IdempotencyKeyReuseError extends Error {
  constructor(key: string) {
    super(`idempotency key ${key} was already used with different parameters`);
    this.name = 'IdempotencyKeyReuseError';
  }
}

/** A refund the gateway refuses: unknown charge, not captured, or more than is left on it. */
export class RefundRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefundRejectedError';
  }
}

export class ProviderTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`payment provider did not answer ${operation} within ${timeoutMs} ms`);
    this.name = 'ProviderTimeoutError';
  }
}

/**
 * Calls the gateway with a deadline. The race matters even though the signal is passed on: a client
 * that ignores its signal must not hold the consumer past the deadline.
 */
export async function withDeadline<T>(operation: string, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ProviderTimeoutError(operation, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
  }
}
