import { InMemoryGatewayStore } from '../testing/in-memory-gateway-store';
import { IdempotencyKeyReuseError, ProviderTimeoutError, RefundRejectedError, withDeadline } from './payment-provider';
import { SimulatedPaymentProvider, TEST_TOKENS } from './simulated-payment-provider';

describe('SimulatedPaymentProvider', () => {
  let store: InMemoryGatewayStore;
  let now: Date;
  let provider: SimulatedPaymentProvider;
  const open = () => new AbortController().signal;
  const charge = (paymentMethod: string | undefined, idempotencyKey = 'key-1', amountMinor = 5000) =>
    provider.charge({ idempotencyKey, amountMinor, currency: 'EUR', paymentMethod }, open());

  beforeEach(() => {
    store = new InMemoryGatewayStore();
    now = new Date('2030-01-01T10:00:00.000Z');
    provider = new SimulatedPaymentProvider(store, { latencyMs: 0, delayedSuccessMs: 60000, now: () => now });
  });

  it('captures tok_success, and a charge without a token the same way', async () => {
    const explicit = await charge(TEST_TOKENS.success, 'a');
    const implicit = await charge(undefined, 'b');
    expect(explicit).toEqual({ status: 'succeeded', providerRef: expect.stringMatching(/^ch_/) });
    expect(implicit.status).toBe('succeeded');
    expect(store.charges.get('b')).toMatchObject({ paymentMethod: TEST_TOKENS.success, status: 'SUCCEEDED', amountMinor: 5000 });
  });

  it.each([
    [TEST_TOKENS.decline, 'card_declined'],
    [TEST_TOKENS.insufficientFunds, 'insufficient_funds'],
    ['tok_nobody_issued_this', 'invalid_payment_method'],
    ['constructor', 'invalid_payment_method'],
  ])('declines %s with %s', async (token, reason) => {
    expect(await charge(token)).toEqual({ status: 'failed', providerRef: expect.stringMatching(/^ch_/), reason });
  });

  it('answers a repeated key from memory: one charge, the same reference, every request counted', async () => {
    const first = await charge(TEST_TOKENS.success);
    const second = await charge(TEST_TOKENS.success);
    expect(second).toEqual(first);
    expect(store.charges.size).toBe(1);
    expect(store.charges.get('key-1')?.requests).toBe(2);
  });

  it('replays a decline too, rather than trying the card again', async () => {
    const first = await charge(TEST_TOKENS.decline);
    expect(await charge(TEST_TOKENS.decline)).toEqual(first);
  });

  it('refuses a key reused with another amount or card', async () => {
    await charge(TEST_TOKENS.success);
    await expect(charge(TEST_TOKENS.success, 'key-1', 4000)).rejects.toBeInstanceOf(IdempotencyKeyReuseError);
    await expect(charge(TEST_TOKENS.decline, 'key-1')).rejects.toBeInstanceOf(IdempotencyKeyReuseError);
    expect(store.charges.get('key-1')?.amountMinor).toBe(5000);
  });

  it('never answers tok_timeout and remembers nothing, until the caller gives up', async () => {
    await expect(
      withDeadline('charge', 30, (signal) =>
        provider.charge({ idempotencyKey: 'k', amountMinor: 100, currency: 'EUR', paymentMethod: TEST_TOKENS.timeout }, signal),
      ),
    ).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(store.charges.size).toBe(0);
  });

  it('gives up on its latency when the caller aborts', async () => {
    const slow = new SimulatedPaymentProvider(store, { latencyMs: 60000, delayedSuccessMs: 0 });
    await expect(withDeadline('charge', 20, (signal) => slow.charge({ idempotencyKey: 'k', amountMinor: 1, currency: 'EUR' }, signal))).rejects.toBeInstanceOf(
      ProviderTimeoutError,
    );
    expect(store.charges.size).toBe(0);
  });

  it('keeps tok_success_delayed processing until its delay has passed, then captures it', async () => {
    const accepted = await charge(TEST_TOKENS.successDelayed);
    expect(accepted).toEqual({ status: 'processing', providerRef: expect.stringMatching(/^ch_/) });
    now = new Date(now.getTime() + 59999);
    expect(await provider.retrieveCharge('key-1', open())).toEqual(accepted);
    now = new Date(now.getTime() + 1);
    expect(await provider.retrieveCharge('key-1', open())).toEqual({ status: 'succeeded', providerRef: accepted.providerRef });
    expect(await charge(TEST_TOKENS.successDelayed)).toEqual({ status: 'succeeded', providerRef: accepted.providerRef });
  });

  it('does not know a charge it never saw', async () => {
    expect(await provider.retrieveCharge('never', open())).toBeUndefined();
  });

  describe('refunds', () => {
    const refund = (providerRef: string, amountMinor: number, idempotencyKey = 'r-1', currency = 'EUR') =>
      provider.refund({ idempotencyKey, providerRef, amountMinor, currency }, open());

    it('refunds up to what was captured, in parts, and refuses more', async () => {
      const { providerRef } = await charge(TEST_TOKENS.success);
      expect((await refund(providerRef, 3000, 'r-1')).providerRefundRef).toMatch(/^re_/);
      await refund(providerRef, 2000, 'r-2');
      await expect(refund(providerRef, 1, 'r-3')).rejects.toThrow(/exceeds the 0 left/);
      expect(store.charges.get('key-1')?.refundedMinor).toBe(5000);
    });

    it('answers a repeated refund key from memory without refunding again', async () => {
      const { providerRef } = await charge(TEST_TOKENS.success);
      const first = await refund(providerRef, 1000);
      expect(await refund(providerRef, 1000)).toEqual(first);
      expect(store.charges.get('key-1')?.refundedMinor).toBe(1000);
      await expect(refund(providerRef, 900)).rejects.toBeInstanceOf(IdempotencyKeyReuseError);
    });

    it('refuses refunds of unknown, declined or still processing charges, in another currency, or of nothing', async () => {
      const declined = await charge(TEST_TOKENS.decline, 'declined');
      const processing = await charge(TEST_TOKENS.successDelayed, 'processing');
      const captured = await charge(TEST_TOKENS.success, 'captured');
      await expect(refund('ch_unknown', 10, 'a')).rejects.toBeInstanceOf(RefundRejectedError);
      await expect(refund(declined.providerRef, 10, 'b')).rejects.toThrow(/FAILED, not captured/);
      await expect(refund(processing.providerRef, 10, 'c')).rejects.toThrow(/PROCESSING, not captured/);
      await expect(refund(captured.providerRef, 10, 'd', 'USD')).rejects.toThrow(/is in EUR/);
      await expect(refund(captured.providerRef, 0, 'e')).rejects.toThrow(/positive integer/);
      expect(store.refunds.size).toBe(0);
    });
  });
});

describe('withDeadline', () => {
  it('returns what the call returns in time', async () => {
    expect(await withDeadline('op', 1000, async () => 'answer')).toBe('answer');
  });

  it('passes on the call’s own failure', async () => {
    await expect(withDeadline('op', 1000, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });

  it('times out a call that ignores its signal, and aborts the signal', async () => {
    let seen: AbortSignal | undefined;
    const error = await withDeadline('charge', 10, (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect((error as Error).message).toContain('charge within 10 ms');
    expect(seen?.aborted).toBe(true);
  });
});
