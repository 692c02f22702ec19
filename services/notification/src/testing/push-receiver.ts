import { PUSH_SIGNATURE_HEADER, verifyPushSignature } from '../channels/push-signature';
import { LocalHttpServer, RecordedRequest, sendJson } from '@booking/dev-inbox';

export type ReceivedPush = RecordedRequest & { verified: boolean; payload: Record<string, unknown> };

/**
 * A push endpoint as a receiver would run it: verifies the signature (refusing bad ones with 401) and
 * records what arrived. Paths under /gone answer 410, under /flaky 503.
 */
export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  private readonly http: LocalHttpServer;

  constructor(secret: string) {
    this.http = new LocalHttpServer((request, response) => {
      const verified = verifyPushSignature(secret, request.body, request.headers[PUSH_SIGNATURE_HEADER] as string | undefined, Math.floor(Date.now() / 1000));
      let payload: Record<string, unknown> = {};
      try {
        payload = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        payload = {};
      }
      this.received.push({ ...request, verified, payload });
      if (request.path.startsWith('/gone')) return sendJson(response, 410, { error: 'subscription expired' });
      if (request.path.startsWith('/flaky')) return sendJson(response, 503, { error: 'busy' });
      if (!verified) return sendJson(response, 401, { error: 'bad signature' });
      sendJson(response, 202, { accepted: true }, { 'x-request-id': `push-${this.received.length}` });
    });
  }

  start(): Promise<string> {
    return this.http.start();
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  at(path: string): ReceivedPush[] {
    return this.received.filter((r) => r.path === path);
  }
}
