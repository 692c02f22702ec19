import { unusedPort } from '@booking/dev-inbox';
import { PushReceiver } from '../testing/push-receiver';
import { DeliveryError, PushMessage } from './channel';
import { PushChannel } from './push.channel';

/** Signed webhooks to a local receiver that verifies them as a real one would. */
describe('PushChannel (signed webhook)', () => {
  const secret = 'push-secret-for-tests';
  const receiver = new PushReceiver(secret);
  let base: string;
  const channel = new PushChannel({ signingSecret: secret, timeoutMs: 2000, allowHttp: true });

  const push = (endpoint: string): PushMessage => ({
    channel: 'PUSH',
    deliveryId: 'd-42',
    endpoint,
    payload: {
      deliveryId: 'd-42',
      event: 'ReminderDue',
      appointmentId: 'appt-1',
      title: 'Appointment reminder',
      body: 'Reminder: Tuesday, December 1, 2026 at 11:00 PM GMT+9 (Asia/Tokyo)',
      start: '2026-12-01T14:00:00.000Z',
      end: '2026-12-01T14:30:00.000Z',
    },
  });

  beforeAll(async () => {
    base = await receiver.start();
  });

  afterAll(() => receiver.stop());

  it('posts the JSON payload with a signature the receiver verifies', async () => {
    const result = await channel.send(push(`${base}/devices/aiko`));
    const [received] = receiver.at('/devices/aiko');
    expect(received.method).toBe('POST');
    expect(received.verified).toBe(true);
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.headers['x-booking-delivery-id']).toBe('d-42');
    expect(received.headers['x-booking-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(received.payload).toEqual(push('').payload);
    expect(result.providerMessageId).toMatch(/^push-\d+$/);
  });

  it('is refused by a receiver holding another secret, which is permanent', async () => {
    const impostor = new PushChannel({ signingSecret: 'not-the-right-secret', timeoutMs: 2000, allowHttp: true });
    const error = (await impostor.send(push(`${base}/devices/aiko-2`)).catch((e: unknown) => e)) as DeliveryError;
    expect(receiver.at('/devices/aiko-2')[0].verified).toBe(false);
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('HTTP 401');
  });

  it('classifies gone (410) as permanent and busy (503) or unreachable as transient', async () => {
    expect(((await channel.send(push(`${base}/gone/1`)).catch((e: unknown) => e)) as DeliveryError).permanent).toBe(true);
    expect(((await channel.send(push(`${base}/flaky/1`)).catch((e: unknown) => e)) as DeliveryError).permanent).toBe(false);
    const unreachable = (await channel.send(push(`http://127.0.0.1:${await unusedPort()}/x`)).catch((e: unknown) => e)) as DeliveryError;
    expect(unreachable.permanent).toBe(false);
    expect(unreachable.message).toBe('push endpoint unreachable: ECONNREFUSED');
  });

  it('refuses plain http unless allowed', async () => {
    const strict = new PushChannel({ signingSecret: secret, timeoutMs: 2000, allowHttp: false });
    const error = (await strict.send(push(`${base}/devices/strict`)).catch((e: unknown) => e)) as DeliveryError;
    expect(error.permanent).toBe(true);
    expect(receiver.at('/devices/strict')).toHaveLength(0);
  });
});
