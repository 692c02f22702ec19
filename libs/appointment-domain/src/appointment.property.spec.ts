import fc from 'fast-check';
import type { AppointmentCommand, RequestAppointment } from './appointment.commands';
import { appointmentDecider } from './appointment.decider';
import { APPOINTMENT_EVENT_TYPES, type AppointmentEvent } from './appointment.events';
import {
  type AppointmentState,
  type AppointmentStatus,
  type ExistingAppointment,
  TERMINAL_STATUSES,
  balanceMinor,
  foldEvents,
} from './appointment.state';
import type { CancellationPolicy } from './cancellation-policy';
import { AppointmentDomainError } from './errors';
import { HOUR_MS, MINUTE_MS, parseIsoUtc, toIsoUtc } from './time';
import type { Actor, CancellationReason } from './types';

/**
 * Random command sequences against the decider. Whatever happens, folding decide's output must keep
 * the state consistent: only allowed edges, money conserved, fee + refund = balance, determinism,
 * rebuildable from JSON.
 */
const ID = 'appt-prop';
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const { decide, evolve, initialState } = appointmentDecider;

const ALLOWED_EDGES = new Set([
  'NONE > AppointmentRequested > PENDING',
  'PENDING > AppointmentConfirmed > CONFIRMED',
  'PENDING > AppointmentCancelled > CANCELLED',
  'CONFIRMED > AppointmentCancelled > CANCELLED',
  'CONFIRMED > AppointmentRescheduled > CONFIRMED',
  'CONFIRMED > AppointmentCompleted > COMPLETED',
  'CONFIRMED > AppointmentMarkedNoShow > NO_SHOW',
  'CONFIRMED > LatePaymentRefundRequested > CONFIRMED',
  'CANCELLED > LatePaymentRefundRequested > CANCELLED',
]);

// ── time specs: absolute, or relative to the appointment's current start / hold (to hit boundaries) ──
type TimeSpec =
  | { kind: 'abs'; minutes: number }
  | { kind: 'start'; hoursBefore: number; deltaMs: number }
  | { kind: 'hold'; deltaMs: number };

const deltaArb = fc.constantFrom(-1000, -1, 0, 1, 1000, 30 * MINUTE_MS);
const timeArb: fc.Arbitrary<TimeSpec> = fc.oneof(
  fc.record({ kind: fc.constant('abs' as const), minutes: fc.integer({ min: -60, max: 120 * 60 }) }),
  fc.record({ kind: fc.constant('start' as const), hoursBefore: fc.constantFrom(0, 1, 12, 24, 48), deltaMs: deltaArb }),
  fc.record({ kind: fc.constant('hold' as const), deltaMs: deltaArb }),
);

function resolve(spec: TimeSpec, state: AppointmentState): string {
  const start = state.status === 'NONE' ? T0 + 48 * HOUR_MS : (parseIsoUtc(state.start) as number);
  const hold = state.status === 'NONE' ? T0 + 15 * MINUTE_MS : (parseIsoUtc(state.holdExpiresAt) as number);
  switch (spec.kind) {
    case 'abs':
      return toIsoUtc(T0 + spec.minutes * MINUTE_MS);
    case 'start':
      return toIsoUtc(start - spec.hoursBefore * HOUR_MS + spec.deltaMs);
    case 'hold':
      return toIsoUtc(hold + spec.deltaMs);
  }
}

const policyArb: fc.Arbitrary<CancellationPolicy> = fc.record({
  freeUntilHoursBefore: fc.constantFrom(0, 12, 24, 48),
  lateFee: fc.oneof(
    fc.record({ kind: fc.constant('PERCENT' as const), percent: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ kind: fc.constant('AMOUNT' as const), amountMinor: fc.integer({ min: 0, max: 60_000 }) }),
  ),
  noShowForfeits: fc.boolean(),
  rescheduleFreeUntilHoursBefore: fc.constantFrom(0, 12, 24, 48),
});

const requestArb: fc.Arbitrary<RequestAppointment> = fc
  .record({
    startMinutes: fc.integer({ min: 30, max: 96 * 60 }),
    durationMinutes: fc.integer({ min: 15, max: 180 }),
    price: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 })),
    policy: policyArb,
    bufferBefore: fc.integer({ min: 0, max: 30 }),
    bufferAfter: fc.integer({ min: 0, max: 30 }),
  })
  .map(({ startMinutes, durationMinutes, price, policy, bufferBefore, bufferAfter }) => ({
    type: 'RequestAppointment',
    appointmentId: ID,
    providerId: 'prov',
    clientId: 'client',
    start: toIsoUtc(T0 + startMinutes * MINUTE_MS),
    end: toIsoUtc(T0 + (startMinutes + durationMinutes) * MINUTE_MS),
    bufferBeforeMinutes: bufferBefore,
    bufferAfterMinutes: bufferAfter,
    price: { amountMinor: price, currency: 'EUR' },
    policy,
    client: { timeZone: 'Europe/Paris' },
    holdExpiresAt: toIsoUtc(T0 + 15 * MINUTE_MS),
    at: toIsoUtc(T0),
  }));

type Step = (state: AppointmentState, request: RequestAppointment) => AppointmentCommand;

const paymentIdArb = fc.constantFrom('pay-1', 'pay-2', 'pay-3');
const cancelPairArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom<[Actor, CancellationReason]>(['CLIENT', 'CLIENT_REQUEST'], ['PROVIDER', 'PROVIDER_REQUEST'], ['SYSTEM', 'PAYMENT_FAILED'], ['SYSTEM', 'EXPIRED']) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom<Actor>('CLIENT', 'PROVIDER', 'SYSTEM'), fc.constantFrom<CancellationReason>('CLIENT_REQUEST', 'PROVIDER_REQUEST', 'PAYMENT_FAILED', 'EXPIRED')) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: requestArb.map((r): Step => () => r) },
  {
    weight: 4,
    arbitrary: fc
      .record({ paymentId: paymentIdArb, amount: fc.option(fc.integer({ min: 0, max: 60_000 })), currency: fc.option(fc.constantFrom('USD', 'JPY')), at: timeArb })
      .map((c): Step => (s, req) => ({
        type: 'ConfirmAppointment',
        appointmentId: ID,
        paymentId: c.paymentId,
        amountMinor: c.amount ?? req.price.amountMinor,
        currency: c.currency ?? req.price.currency,
        at: resolve(c.at, s),
      })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ pair: cancelPairArb, at: timeArb })
      .map((c): Step => (s) => ({ type: 'CancelAppointment', appointmentId: ID, by: c.pair[0], reason: c.pair[1], at: resolve(c.at, s) })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        by: fc.constantFrom('CLIENT' as const, 'PROVIDER' as const),
        newStartMinutes: fc.integer({ min: 0, max: 120 * 60 }),
        durationMinutes: fc.integer({ min: -10, max: 180 }),
        at: timeArb,
      })
      .map((c): Step => (s) => ({
        type: 'RescheduleAppointment',
        appointmentId: ID,
        by: c.by,
        newStart: toIsoUtc(T0 + c.newStartMinutes * MINUTE_MS),
        newEnd: toIsoUtc(T0 + (c.newStartMinutes + c.durationMinutes) * MINUTE_MS),
        at: resolve(c.at, s),
      })),
  },
  { weight: 2, arbitrary: timeArb.map((at): Step => (s) => ({ type: 'CompleteAppointment', appointmentId: ID, at: resolve(at, s) })) },
  { weight: 2, arbitrary: timeArb.map((at): Step => (s) => ({ type: 'MarkNoShow', appointmentId: ID, at: resolve(at, s) })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ paymentId: paymentIdArb, at: timeArb })
      .map((c): Step => (s) => ({ type: 'FailPayment', appointmentId: ID, paymentId: c.paymentId, reason: 'declined', at: resolve(c.at, s) })),
  },
);

function checkEvent(prev: ExistingAppointment | undefined, next: AppointmentState, event: AppointmentEvent, request: RequestAppointment) {
  const edge = `${prev?.status ?? 'NONE'} > ${event.type} > ${next.status}`;
  expect(ALLOWED_EDGES.has(edge) ? edge : `forbidden edge: ${edge}`).toBe(edge);
  expect(event.appointmentId).toBe(ID);
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('At') || /^(start|end|newStart|newEnd|previousStart|previousEnd)$/.test(key)) {
      expect(toIsoUtc(parseIsoUtc(value) as number)).toBe(value);
    }
  }
  const balanceBefore = prev ? balanceMinor(prev) : 0;
  switch (event.type) {
    case 'AppointmentCancelled':
      expect(event.balanceMinor).toBe(balanceBefore);
      expect(event.feeMinor + event.refundMinor).toBe(event.balanceMinor);
      expect(event.feeMinor).toBeGreaterThanOrEqual(0);
      expect(event.refundMinor).toBeGreaterThanOrEqual(0);
      expect(event.feeMinor).toBeLessThanOrEqual(request.price.amountMinor);
      expect(event.previousStatus).toBe(prev?.status);
      if (event.by !== 'CLIENT') expect(event.feeMinor).toBe(0);
      if (event.reason === 'EXPIRED') expect(Date.parse(event.cancelledAt)).toBeGreaterThanOrEqual(Date.parse(request.holdExpiresAt));
      break;
    case 'AppointmentRescheduled':
      expect(event.feeMinor + event.creditMinor).toBe(balanceBefore);
      expect(Date.parse(event.newEnd)).toBeGreaterThan(Date.parse(event.newStart));
      expect(event.newStart !== event.previousStart || event.newEnd !== event.previousEnd).toBe(true);
      if (event.free) expect(event.feeMinor).toBe(0);
      break;
    case 'AppointmentCompleted':
      expect(event.settledMinor).toBe(balanceBefore);
      if (prev?.status === 'CONFIRMED') expect(Date.parse(event.completedAt)).toBeGreaterThanOrEqual(Date.parse(prev.start));
      break;
    case 'AppointmentMarkedNoShow':
      expect(event.forfeitedMinor + event.refundMinor).toBe(balanceBefore);
      if (prev?.status === 'CONFIRMED') expect(Date.parse(event.markedAt)).toBeGreaterThanOrEqual(Date.parse(prev.start));
      break;
    case 'LatePaymentRefundRequested':
      expect(prev?.ledger.paymentId).not.toBe(event.paymentId);
      expect(prev?.ledger.lateRefundedPaymentIds).not.toContain(event.paymentId);
      break;
    default:
      break;
  }
}

function checkState(state: AppointmentState, stream: readonly AppointmentEvent[]) {
  expect(state.version).toBe(stream.length);
  if (state.status === 'NONE') return;
  const { ledger } = state;
  const balance = balanceMinor(state);
  for (const n of [ledger.paidMinor, ledger.retainedMinor, ledger.refundedMinor, balance]) {
    expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
  }
  if (TERMINAL_STATUSES.includes(state.status)) expect(balance).toBe(0);
  if (state.status === 'PENDING') expect(ledger.paidMinor).toBe(0);

  // Money conservation over the whole stream: everything captured is kept, refunded or still held.
  let captured = 0;
  let out = 0;
  for (const e of stream) {
    if (e.type === 'AppointmentConfirmed') captured += e.paidMinor;
    if (e.type === 'LatePaymentRefundRequested') {
      captured += e.amountMinor;
      out += e.amountMinor;
    }
    if (e.type === 'AppointmentCancelled' || e.type === 'AppointmentMarkedNoShow') out += e.refundMinor;
  }
  expect(captured).toBe(ledger.retainedMinor + out + balance);

  // One way out of the lifecycle, and nothing but refunds of stray payments after it.
  const terminalIndexes = stream.flatMap((e, i) =>
    ['AppointmentCancelled', 'AppointmentCompleted', 'AppointmentMarkedNoShow'].includes(e.type) ? [i] : [],
  );
  expect(terminalIndexes.length).toBeLessThanOrEqual(1);
  if (terminalIndexes.length === 1) {
    expect(stream.slice(terminalIndexes[0]! + 1).every((e) => e.type === 'LatePaymentRefundRequested')).toBe(true);
  }
  const lateRefunded = stream.flatMap((e) => (e.type === 'LatePaymentRefundRequested' ? [e.paymentId] : []));
  expect(new Set(lateRefunded).size).toBe(lateRefunded.length);
}

describe('appointment decider properties', () => {
  it('random command sequences never produce an inconsistent state', () => {
    const seen = new Set<AppointmentStatus>();
    const seenEvents = new Set<string>();
    fc.assert(
      fc.property(requestArb, fc.array(stepArb, { minLength: 1, maxLength: 25 }), (request, steps) => {
        let state = initialState();
        const stream: AppointmentEvent[] = [];
        let currentRequest = request;
        for (const step of [(() => request) as Step, ...steps]) {
          const command = step(state, currentRequest);
          let events: AppointmentEvent[];
          try {
            events = decide(command, state);
          } catch (error) {
            expect(error).toBeInstanceOf(AppointmentDomainError);
            expect((error as AppointmentDomainError).currentStatus).toBe(state.status);
            continue;
          }
          expect(decide(command, state)).toStrictEqual(events); // deterministic
          if (command.type === 'RequestAppointment') currentRequest = command;
          for (const event of events) {
            const prev = state.status === 'NONE' ? undefined : state;
            state = evolve(state, event);
            checkEvent(prev, state, event, currentRequest);
            stream.push(event);
            seenEvents.add(event.type === 'AppointmentCancelled' ? `${event.type}/${event.reason}/late=${event.late}` : event.type);
          }
          checkState(state, stream);
          seen.add(state.status);
        }
        // Projections can be rebuilt: the JSON-serialised stream folds to the very same state.
        expect(foldEvents(JSON.parse(JSON.stringify(stream)) as AppointmentEvent[])).toStrictEqual(state);
      }),
      { numRuns: 400 },
    );
    // The generator actually explores the whole machine.
    expect([...seen].sort()).toEqual(['CANCELLED', 'COMPLETED', 'CONFIRMED', 'NO_SHOW', 'PENDING']);
    for (const type of APPOINTMENT_EVENT_TYPES.filter((t) => t !== 'AppointmentCancelled')) expect(seenEvents).toContain(type);
    for (const reason of ['CLIENT_REQUEST', 'PROVIDER_REQUEST', 'PAYMENT_FAILED', 'EXPIRED']) {
      expect([...seenEvents].some((e) => e.startsWith(`AppointmentCancelled/${reason}/`))).toBe(true);
    }
    expect(seenEvents).toContain('AppointmentCancelled/CLIENT_REQUEST/late=true');
  });
});
