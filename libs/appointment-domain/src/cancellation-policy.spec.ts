import fc from 'fast-check';
import {
  type CancellationPolicy,
  computeCancellationOutcome,
  computeRescheduleOutcome,
  policyLateFeeMinor,
  validateCancellationPolicy,
} from './cancellation-policy';
import { shift } from './testing/fixtures';
import { HOUR_MS, toIsoUtc } from './time';

const START = '2026-12-01T14:00:00.000Z';
const price = { amountMinor: 10_000, currency: 'EUR' };
const percent = (p: number): CancellationPolicy => ({
  freeUntilHoursBefore: 24,
  lateFee: { kind: 'PERCENT', percent: p },
  noShowForfeits: true,
  rescheduleFreeUntilHoursBefore: 12,
});
const amount = (a: number): CancellationPolicy => ({ ...percent(0), lateFee: { kind: 'AMOUNT', amountMinor: a } });
const dayBefore = shift(START, { hours: -24 });

describe('computeCancellationOutcome', () => {
  it('exactly 24 h before start is free', () => {
    expect(computeCancellationOutcome(percent(50), price, 10_000, START, dayBefore, 'CLIENT')).toEqual({
      late: false,
      feeMinor: 0,
      refundMinor: 10_000,
    });
  });

  it('one second later is late', () => {
    expect(computeCancellationOutcome(percent(50), price, 10_000, START, shift(dayBefore, { seconds: 1 }), 'CLIENT')).toEqual({
      late: true,
      feeMinor: 5_000,
      refundMinor: 5_000,
    });
  });

  it('one millisecond later is late too', () => {
    expect(computeCancellationOutcome(percent(50), price, 10_000, START, shift(dayBefore, { ms: 1 }), 'CLIENT').late).toBe(true);
  });

  it('after the start a client cancellation is late', () => {
    expect(computeCancellationOutcome(percent(20), price, 10_000, START, shift(START, { hours: 3 }), 'CLIENT')).toEqual({
      late: true,
      feeMinor: 2_000,
      refundMinor: 8_000,
    });
  });

  it('percent fee rounds down in the client’s favour', () => {
    expect(policyLateFeeMinor(percent(15), { amountMinor: 1_999, currency: 'EUR' })).toBe(299);
    expect(policyLateFeeMinor(percent(12.5), { amountMinor: 1_000, currency: 'EUR' })).toBe(125);
  });

  it('fixed amount fee', () => {
    expect(computeCancellationOutcome(amount(1_500), price, 10_000, START, START, 'CLIENT')).toEqual({
      late: true,
      feeMinor: 1_500,
      refundMinor: 8_500,
    });
  });

  it('fee is capped at the price', () => {
    expect(policyLateFeeMinor(amount(99_999), price)).toBe(10_000);
    expect(computeCancellationOutcome(amount(99_999), price, 12_000, START, START, 'CLIENT')).toEqual({
      late: true,
      feeMinor: 10_000,
      refundMinor: 2_000,
    });
  });

  it('fee is capped at the amount paid; nothing paid → fee 0, refund 0', () => {
    expect(computeCancellationOutcome(percent(100), price, 4_000, START, START, 'CLIENT')).toEqual({
      late: true,
      feeMinor: 4_000,
      refundMinor: 0,
    });
    expect(computeCancellationOutcome(percent(100), price, 0, START, START, 'CLIENT')).toEqual({
      late: true,
      feeMinor: 0,
      refundMinor: 0,
    });
  });

  it.each(['PROVIDER', 'SYSTEM'] as const)('%s cancellation is always a full refund', (by) => {
    for (const at of [shift(START, { hours: -100 }), shift(START, { minutes: -1 }), shift(START, { hours: 2 })]) {
      expect(computeCancellationOutcome(percent(100), price, 10_000, START, at, by)).toEqual({
        late: false,
        feeMinor: 0,
        refundMinor: 10_000,
      });
    }
  });

  it('property: fee + refund === paid, both >= 0, fee <= price', () => {
    const policyArb = fc.record({
      freeUntilHoursBefore: fc.integer({ min: 0, max: 72 }),
      lateFee: fc.oneof(
        fc.record({ kind: fc.constant('PERCENT' as const), percent: fc.integer({ min: 0, max: 100 }) }),
        fc.record({ kind: fc.constant('AMOUNT' as const), amountMinor: fc.integer({ min: 0, max: 100_000 }) }),
      ),
      noShowForfeits: fc.boolean(),
      rescheduleFreeUntilHoursBefore: fc.integer({ min: 0, max: 72 }),
    });
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 150_000 }),
        fc.integer({ min: -100 * HOUR_MS, max: 10 * HOUR_MS }),
        fc.constantFrom('CLIENT' as const, 'PROVIDER' as const, 'SYSTEM' as const),
        (policy, priceMinor, paid, offset, by) => {
          const p = { amountMinor: priceMinor, currency: 'EUR' };
          const at = toIsoUtc(Date.parse(START) + offset);
          const c = computeCancellationOutcome(policy, p, paid, START, at, by);
          expect(c.feeMinor + c.refundMinor).toBe(paid);
          expect(c.feeMinor).toBeGreaterThanOrEqual(0);
          expect(c.refundMinor).toBeGreaterThanOrEqual(0);
          expect(c.feeMinor).toBeLessThanOrEqual(priceMinor);
          expect(Number.isInteger(c.feeMinor)).toBe(true);
          if (by !== 'CLIENT') expect(c.refundMinor).toBe(paid);
          if (by !== 'PROVIDER') {
            const r = computeRescheduleOutcome(policy, p, paid, START, at, by === 'CLIENT' ? 'CLIENT' : 'PROVIDER');
            expect(r.feeMinor + r.creditMinor).toBe(paid);
          }
        },
      ),
    );
  });
});

describe('computeRescheduleOutcome', () => {
  const twelveBefore = shift(START, { hours: -12 });
  it('at the reschedule boundary → free, everything moves as credit', () => {
    expect(computeRescheduleOutcome(percent(50), price, 10_000, START, twelveBefore, 'CLIENT')).toEqual({
      free: true,
      feeMinor: 0,
      creditMinor: 10_000,
    });
  });
  it('one second later → the late fee is charged, the rest is credit', () => {
    expect(computeRescheduleOutcome(percent(50), price, 10_000, START, shift(twelveBefore, { seconds: 1 }), 'CLIENT')).toEqual({
      free: false,
      feeMinor: 5_000,
      creditMinor: 5_000,
    });
  });
  it('uses its own window, not the cancellation one', () => {
    // 20 h before: late for cancelling (24 h) but free for rescheduling (12 h).
    const at = shift(START, { hours: -20 });
    expect(computeCancellationOutcome(percent(50), price, 10_000, START, at, 'CLIENT').late).toBe(true);
    expect(computeRescheduleOutcome(percent(50), price, 10_000, START, at, 'CLIENT').free).toBe(true);
  });
  it('provider → always free', () => {
    expect(computeRescheduleOutcome(percent(50), price, 10_000, START, START, 'PROVIDER')).toEqual({
      free: true,
      feeMinor: 0,
      creditMinor: 10_000,
    });
  });
});

describe('validateCancellationPolicy', () => {
  it('accepts valid policies', () => {
    expect(validateCancellationPolicy(percent(50))).toEqual([]);
    expect(validateCancellationPolicy(amount(0))).toEqual([]);
  });
  it.each([
    [null],
    [{}],
    [{ ...percent(50), lateFee: { kind: 'PERCENT', percent: -1 } }],
    [{ ...percent(50), lateFee: { kind: 'PERCENT', percent: Number.NaN } }],
    [{ ...percent(50), lateFee: { kind: 'AMOUNT', amountMinor: 1.5 } }],
    [{ ...percent(50), lateFee: { kind: 'FREE' } }],
    [{ ...percent(50), freeUntilHoursBefore: Number.POSITIVE_INFINITY }],
    [{ ...percent(50), rescheduleFreeUntilHoursBefore: '24' }],
    [{ ...percent(50), noShowForfeits: 'yes' }],
  ])('rejects %j', (policy) => {
    expect(validateCancellationPolicy(policy).length).toBeGreaterThan(0);
  });
});
