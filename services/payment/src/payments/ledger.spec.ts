import fc from 'fast-check';
import { Balance, heldMinor, settleClosing, settleReschedule } from './ledger';

const paid = (capturedMinor: number, refundedMinor = 0, retainedMinor = 0): Balance => ({ capturedMinor, refundedMinor, retainedMinor });

describe('ledger', () => {
  it('holds what was captured and neither refunded nor retained', () => {
    expect(heldMinor(paid(10000, 2500, 1500))).toBe(6000);
    expect(heldMinor(paid(0))).toBe(0);
  });

  describe('settleClosing', () => {
    it('refunds exactly what scheduling asked and keeps the fee when the payment holds both', () => {
      expect(settleClosing(paid(10000), { refundMinor: 7500, feeMinor: 2500 })).toEqual({ refundMinor: 7500, retainedMinor: 2500 });
    });

    it('caps a refund at what is still held, and the fee at what the refund leaves', () => {
      expect(settleClosing(paid(10000, 0, 2000), { refundMinor: 10000, feeMinor: 0 })).toEqual({ refundMinor: 8000, retainedMinor: 0 });
      expect(settleClosing(paid(10000, 6000), { refundMinor: 3000, feeMinor: 5000 })).toEqual({ refundMinor: 3000, retainedMinor: 1000 });
    });

    it('gives nothing back a second time once all was refunded', () => {
      expect(settleClosing(paid(10000, 10000), { refundMinor: 10000, feeMinor: 0 })).toEqual({ refundMinor: 0, retainedMinor: 0 });
    });

    it("keeps the rest for a closing event that does not state its fee ('rest')", () => {
      expect(settleClosing(paid(10000, 0, 2000), { refundMinor: 3000, feeMinor: 'rest' })).toEqual({ refundMinor: 3000, retainedMinor: 5000 });
    });

    it('moves nothing when nothing was captured', () => {
      expect(settleClosing(paid(0), { refundMinor: 5000, feeMinor: 'rest' })).toEqual({ refundMinor: 0, retainedMinor: 0 });
    });
  });

  describe('settleReschedule', () => {
    it('keeps the fee and credits the rest to the moved appointment', () => {
      expect(settleReschedule(paid(10000), { feeMinor: 2000, creditMinor: 8000 })).toEqual({ retainedMinor: 2000, creditMinor: 8000 });
    });

    it('credits at most what is held after the fee', () => {
      expect(settleReschedule(paid(10000, 0, 3000), { feeMinor: 2000, creditMinor: 8000 })).toEqual({ retainedMinor: 2000, creditMinor: 5000 });
    });
  });

  const balance = fc
    .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }))
    .map(([captured, a, b]) => {
      const refunded = Math.min(a, captured);
      return paid(captured, refunded, Math.min(b, captured - refunded));
    });
  const amount = fc.integer({ min: 0, max: 2_000_000 });

  it('never moves more than is held, and never a negative amount (property)', () => {
    fc.assert(
      fc.property(balance, amount, fc.oneof(amount, fc.constant('rest' as const)), amount, (b, refundMinor, feeMinor, creditMinor) => {
        const closing = settleClosing(b, { refundMinor, feeMinor });
        expect(closing.refundMinor).toBeGreaterThanOrEqual(0);
        expect(closing.retainedMinor).toBeGreaterThanOrEqual(0);
        expect(closing.refundMinor).toBeLessThanOrEqual(refundMinor);
        expect(closing.refundMinor + closing.retainedMinor).toBeLessThanOrEqual(heldMinor(b));
        const reschedule = settleReschedule(b, { feeMinor: feeMinor === 'rest' ? 0 : feeMinor, creditMinor });
        expect(reschedule.retainedMinor + reschedule.creditMinor).toBeLessThanOrEqual(heldMinor(b));
        expect(Math.min(reschedule.retainedMinor, reschedule.creditMinor)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('settles exactly what scheduling computed whenever it fits the balance (property)', () => {
    fc.assert(
      fc.property(balance, fc.double({ min: 0, max: 1, noNaN: true }), (b, share) => {
        const held = heldMinor(b);
        const refundMinor = Math.floor(held * share);
        expect(settleClosing(b, { refundMinor, feeMinor: held - refundMinor })).toEqual({ refundMinor, retainedMinor: held - refundMinor });
        expect(settleReschedule(b, { feeMinor: held - refundMinor, creditMinor: refundMinor })).toEqual({
          retainedMinor: held - refundMinor,
          creditMinor: refundMinor,
        });
      }),
    );
  });

  it('refunds a payment at most once in total, however often a full refund is asked (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 5 }), (captured, times) => {
        let b = paid(captured);
        let total = 0;
        for (let i = 0; i < times; i++) {
          const { refundMinor } = settleClosing(b, { refundMinor: captured, feeMinor: 0 });
          total += refundMinor;
          b = { ...b, refundedMinor: b.refundedMinor + refundMinor };
        }
        expect(total).toBe(captured);
      }),
    );
  });
});
