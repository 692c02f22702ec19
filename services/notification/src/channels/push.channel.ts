import { Channel, DeliveryError, PushMessage, SendResult } from './channel';
import { classifyPushStatus } from './classify-errors';
import { PUSH_DELIVERY_ID_HEADER, PUSH_SIGNATURE_HEADER, signPushBody } from './push-signature';

export type PushSettings = { signingSecret: string; timeoutMs: number; allowHttp: boolean };

/**
 * Push as a signed webhook: an HTTP POST of a JSON payload to the recipient's `pushEndpoint`, signed
 * with HMAC-SHA256 (`X-Booking-Signature: t=…,v1=…`, see push-signature.ts) and carrying the delivery
 * id (`X-Booking-Delivery-Id`) for the receiver to drop duplicates. The receiver (an app backend or a
 * push gateway) owns the device tokens; we never see them. Redirects are not followed, so a signed
 * request only ever goes where the contact said.
 */
export class PushChannel implements Channel<PushMessage> {
  constructor(
    private readonly settings: PushSettings,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async send(message: PushMessage): Promise<SendResult> {
    const endpoint = this.endpoint(message.endpoint);
    const body = JSON.stringify(message.payload);
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'booking-notification/1',
          [PUSH_SIGNATURE_HEADER]: signPushBody(this.settings.signingSecret, body, this.nowSeconds()),
          [PUSH_DELIVERY_ID_HEADER]: message.deliveryId,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new DeliveryError(`push endpoint unreachable: ${why}`, false, { cause: error });
    }
    const answer = (await response.text().catch(() => '')).slice(0, 200);
    if (response.status < 200 || response.status >= 300) throw classifyPushStatus(response.status, answer);
    return { providerMessageId: response.headers.get('x-request-id') ?? `HTTP ${response.status}` };
  }

  private endpoint(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new DeliveryError('push endpoint is not a URL', true);
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && this.settings.allowHttp)) return url;
    throw new DeliveryError(`push endpoint ${url.protocol}// is not allowed (https only; PUSH_ALLOW_HTTP=false)`, true);
  }
}
