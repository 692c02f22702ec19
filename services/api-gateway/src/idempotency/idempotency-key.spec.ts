import fc from 'fast-check';
import { ProblemError } from '@booking/platform';
import { canonicalJson, derivedId, idempotencyKey, requestFingerprint } from './idempotency-key';

describe('idempotency keys', () => {
  it('accepts keys of the documented alphabet and refuses others with a 400', () => {
    expect(idempotencyKey(undefined)).toBeUndefined();
    expect(idempotencyKey('order-42:retry_1.a')).toBe('order-42:retry_1.a');
    for (const bad of ['', 'has space', 'x'.repeat(256), 'ü', ['a', 'b']]) {
      expect(() => idempotencyKey(bad as string)).toThrow(ProblemError);
    }
  });

  it('hashes the same body the same whatever its key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
        expect(requestFingerprint('POST', '/v1/x', reversed)).toBe(requestFingerprint('POST', '/v1/x', record));
      }),
    );
  });

  it('binds a fingerprint to the method, the path and the body', () => {
    const base = requestFingerprint('POST', '/v1/appointments/a/cancel', {});
    expect(requestFingerprint('POST', '/v1/appointments/b/cancel', {})).not.toBe(base);
    expect(requestFingerprint('PATCH', '/v1/appointments/a/cancel', {})).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/appointments/a/cancel', { x: 1 })).not.toBe(base);
    expect(canonicalJson({ a: undefined, b: 1 })).toBe(canonicalJson({ b: 1 }));
  });

  it('derives a stable UUID per caller and key', () => {
    const id = derivedId('admin-1', 'create-dr-ada');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedId('admin-1', 'create-dr-ada')).toBe(id);
    expect(derivedId('admin-2', 'create-dr-ada')).not.toBe(id);
    expect(derivedId('admin-1', 'create-dr-bob')).not.toBe(id);
  });
});
