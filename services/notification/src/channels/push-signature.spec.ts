import { createHmac } from 'node:crypto';
import { signPushBody, verifyPushSignature } from './push-signature';

const secret = 'a-test-signing-secret';
const body = JSON.stringify({ deliveryId: 'd-1', title: 'Appointment confirmed' });

describe('push signatures', () => {
  it('signs "<t>.<body>" with HMAC-SHA256, as documented for receivers', () => {
    const expected = createHmac('sha256', secret).update(`1764597600.${body}`).digest('hex');
    expect(signPushBody(secret, body, 1764597600)).toBe(`t=1764597600,v1=${expected}`);
  });

  it('verifies its own signature within the tolerance', () => {
    const header = signPushBody(secret, body, 1000);
    expect(verifyPushSignature(secret, body, header, 1000)).toBe(true);
    expect(verifyPushSignature(secret, body, header, 1300)).toBe(true);
  });

  it('refuses a changed body, another secret, an old timestamp or garbage', () => {
    const header = signPushBody(secret, body, 1000);
    expect(verifyPushSignature(secret, body.replace('d-1', 'd-2'), header, 1000)).toBe(false);
    expect(verifyPushSignature('another-secret-entirely', body, header, 1000)).toBe(false);
    expect(verifyPushSignature(secret, body, header, 1301)).toBe(false);
    expect(verifyPushSignature(secret, body, header.replace('t=1000', 't=1001'), 1000)).toBe(false);
    expect(verifyPushSignature(secret, body, 'v1=abc', 1000)).toBe(false);
    expect(verifyPushSignature(secret, body, undefined, 1000)).toBe(false);
  });
});
