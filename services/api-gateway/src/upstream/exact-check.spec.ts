import { z, ZodTypeAny } from 'zod';
import { appointmentEvents, appointmentResponse, appointmentsPage, blockedTimesResponse, providerResponse, providersPage, slotsResponse } from '@booking/contracts';
import { noContent } from '../shared/schemas';
import { compileExactCheck } from './exact-check';

const PROVIDER = '3f1c1d8e-5b7a-4c1e-9a57-0d6c2b9e4f11';

const slots = {
  providerId: PROVIDER,
  timeZone: 'Asia/Tokyo',
  providerTimeZone: 'UTC',
  slotDurationMinutes: 15,
  from: '2030-03-06',
  to: '2030-03-06',
  slots: Array.from({ length: 96 }, (_, i) => {
    const start = new Date(Date.UTC(2030, 2, 5, 15) + i * 900_000);
    const end = new Date(start.getTime() + 900_000);
    return {
      start: start.toISOString(),
      end: end.toISOString(),
      local: { timeZone: 'Asia/Tokyo', start: '2030-03-06T00:15:00.000+09:00', end: '2030-03-06T00:30:00.000+09:00', date: '2030-03-06' },
    };
  }),
};

const policy = { freeUntilHoursBefore: 24, lateFee: { kind: 'PERCENT', percent: 50 }, noShowForfeits: true, rescheduleFreeUntilHoursBefore: 12 };

const appointment = {
  id: '8d3b4a57-3c1e-4f6e-8e0a-2b1d9f7c6a55',
  providerId: PROVIDER,
  clientId: 'client-ada',
  status: 'CONFIRMED',
  start: '2030-03-06T01:00:00.000Z',
  end: '2030-03-06T01:15:00.000Z',
  local: { timeZone: 'Asia/Tokyo', start: '2030-03-06T10:00:00.000+09:00', end: '2030-03-06T10:15:00.000+09:00' },
  price: { amountMinor: 0, currency: 'USD' },
  paidMinor: 0,
  feeMinor: 0,
  refundMinor: 0,
  paymentId: null,
  holdExpiresAt: null,
  cancellation: null,
  policy,
  client: { timeZone: 'Asia/Tokyo', email: 'ada@example.com' },
  version: 2,
  createdAt: '2030-03-01T00:00:00.000Z',
  updatedAt: '2030-03-01T00:00:00.000Z',
};

const provider = {
  id: PROVIDER,
  name: 'Dr Who',
  timeZone: 'UTC',
  slotDurationMinutes: 15,
  workingHours: { MON: [['09:00', '12:00'], ['13:00', '17:00']], TUE: [] },
  dateOverrides: { '2030-12-25': [] },
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  minimumNoticeMinutes: 60,
  bookingHorizonDays: 365,
  price: { amountMinor: 2500, currency: 'EUR' },
  cancellationPolicy: { ...policy, lateFee: { kind: 'AMOUNT', amountMinor: 500 } },
  contact: {},
  version: 1,
  createdAt: '2030-03-01T00:00:00.000Z',
  updatedAt: '2030-03-01T00:00:00.000Z',
};

const samples: [string, ZodTypeAny, unknown][] = [
  ['slots', slotsResponse, slots],
  ['appointment', appointmentResponse, appointment],
  ['cancelled appointment', appointmentResponse, { ...appointment, status: 'CANCELLED', cancellation: { by: 'CLIENT', reason: 'x', at: '2030-03-02T00:00:00.000Z' } }],
  ['appointments page', appointmentsPage, { items: [appointment, appointment], nextCursor: 'abc' }],
  ['provider', providerResponse, provider],
  ['providers page', providersPage, { items: [provider], nextCursor: null }],
  ['blocked times', blockedTimesResponse, { items: [{ id: PROVIDER, providerId: PROVIDER, start: '2030-03-01T00:00:00.000Z', end: '2030-03-02T00:00:00.000Z', reason: 'BREAK', note: null }] }],
  ['events', appointmentEvents, { items: [{ eventId: PROVIDER, version: 1, type: 'AppointmentRequested', occurredAt: '2030-03-01T00:00:00.000Z', correlationId: null, data: { any: [1, { deep: true }] } }] }],
];

/** The property: whenever the check says "exact", zod accepts the value and returns an equal one. */
function expectSound(schema: ZodTypeAny, value: unknown): boolean {
  const exact = compileExactCheck(schema)(value);
  if (exact) {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(true);
    expect(parsed.success && parsed.data).toEqual(value);
  }
  return exact;
}

/** Every variant of `value` with one change at one place: a key removed, added, nulled, retyped. */
function* mutations(value: unknown): Generator<unknown> {
  if (Array.isArray(value)) {
    yield [...value, value[0]];
    yield value.slice(1);
    for (let i = 0; i < Math.min(value.length, 2); i++) for (const m of mutations(value[i])) yield value.map((v, j) => (j === i ? m : v));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    yield { ...record, extra: 1 };
    yield JSON.parse(`{"__proto__": 1${Object.keys(record).length ? ',' : ''} ${JSON.stringify(record).slice(1)}`);
    for (const key of Object.keys(record)) {
      const { [key]: _removed, ...rest } = record;
      yield rest;
      yield { ...record, [key]: null };
      for (const m of mutations(record[key])) yield { ...record, [key]: m };
    }
    return;
  }
  if (typeof value === 'string') {
    yield '';
    yield `${value}x`;
    yield 7;
  } else if (typeof value === 'number') {
    yield value + 0.5;
    yield -value - 1;
    yield String(value);
  } else {
    yield 'true';
  }
}

describe('compileExactCheck', () => {
  it.each(samples)('accepts a %s reply that matches its schema exactly', (_name, schema, value) => {
    expect(expectSound(schema, value)).toBe(true);
  });

  it.each(samples)('never says "exact" where zod would refuse or change a %s reply', (_name, schema, value) => {
    let exact = 0;
    let total = 0;
    for (const mutated of mutations(value)) {
      total++;
      if (expectSound(schema, mutated)) exact++;
    }
    expect(total).toBeGreaterThan(10);
    expect(exact).toBeLessThan(total);
  });

  it('leaves an unknown key to zod, which strips it', () => {
    const withExtra = { ...appointment, internalNote: 'not in the contract' };
    expect(compileExactCheck(appointmentResponse)(withExtra)).toBe(false);
    expect(appointmentResponse.parse(withExtra)).not.toHaveProperty('internalNote');
  });

  it('handles what the replies use: undefined for 204, passthrough, unions in order', () => {
    expect(compileExactCheck(noContent)(undefined)).toBe(true);
    expect(compileExactCheck(noContent)({})).toBe(false);
    const passthrough = z.object({ a: z.number() }).passthrough();
    expect(expectSound(passthrough, { a: 1, b: 2 })).toBe(true);
    // The first option would strip `b`: zod's answer differs from the value, so "exact" must not be claimed.
    const union = z.union([z.object({ a: z.number() }), z.object({ a: z.number(), b: z.number() })]);
    expect(expectSound(union, { a: 1, b: 2 })).toBe(false);
    expect(expectSound(z.union([z.string(), z.number()]), 3)).toBe(true);
    // …but an option whose literal tag differs surely refuses, so the next one may answer exactly.
    const tagged = z.union([z.object({ kind: z.literal('A'), a: z.number() }), z.object({ kind: z.literal('B'), b: z.number() })]);
    expect(expectSound(tagged, { kind: 'B', b: 1 })).toBe(true);
    expect(expectSound(tagged, { kind: 'A', a: 1, b: 1 })).toBe(false);
  });

  it('compiles what it does not understand to "not sure", so zod decides', () => {
    for (const schema of [z.string().email(), z.string().trim(), z.number().default(3), z.string().refine(() => true), z.lazy(() => z.string()), z.number().multipleOf(2)]) {
      expect(compileExactCheck(schema)('a@example.com')).toBe(false);
      expect(compileExactCheck(schema)(4)).toBe(false);
    }
  });

  it('applies number and string bounds as zod does', () => {
    const n = z.number().int().min(0).max(10);
    for (const v of [-1, 0, 5, 10, 11, 2.5, Number.NaN, Infinity]) expectSound(n, v);
    expect(compileExactCheck(n)(10)).toBe(true);
    expect(compileExactCheck(z.number().gt(0).lt(1))(0.5)).toBe(true);
    expect(compileExactCheck(z.number().gt(0))(0)).toBe(false);
    const s = z.string().min(2).max(3).regex(/^a/);
    for (const v of ['a', 'ab', 'abc', 'abcd', 'bb']) expectSound(s, v);
    expect(compileExactCheck(s)('ab')).toBe(true);
  });
});
