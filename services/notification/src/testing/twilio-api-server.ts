import { LocalHttpServer, RecordedRequest, sendJson, TWILIO_MESSAGES_PATH as MESSAGES_PATH, twilioMessageResource } from '@booking/dev-inbox';

export type TwilioMessageRequest = RecordedRequest & { accountSid: string; form: Record<string, string> };

/**
 * A local endpoint speaking the shape of Twilio's Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`
 * with HTTP Basic auth and a form-encoded body, answering 201 with a message resource, 400 with error
 * 21211 for numbers marked invalid, 401 with 20003 for wrong credentials, or a status queued by `failNext`.
 */
export class TwilioApiServer {
  readonly requests: TwilioMessageRequest[] = [];
  private readonly invalid = new Set<string>();
  private readonly failures: number[] = [];
  private readonly http: LocalHttpServer;

  constructor(
    private readonly accountSid: string,
    private readonly authToken: string,
  ) {
    this.http = new LocalHttpServer((request, response) => {
      const match = MESSAGES_PATH.exec(request.path);
      if (request.method !== 'POST' || !match) return sendJson(response, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      const form = Object.fromEntries(new URLSearchParams(request.body));
      this.requests.push({ ...request, accountSid: match[1], form });
      const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
      if (request.headers.authorization !== expected || match[1] !== this.accountSid) {
        return sendJson(response, 401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      }
      const failure = this.failures.shift();
      if (failure !== undefined) return sendJson(response, failure, { code: failure === 429 ? 20429 : 20500, message: 'Try again', status: failure });
      if (this.invalid.has(form.To)) {
        return sendJson(response, 400, {
          code: 21211,
          message: `The 'To' number ${form.To} is not a valid phone number.`,
          more_info: 'https://www.twilio.com/docs/errors/21211',
          status: 400,
        });
      }
      sendJson(response, 201, twilioMessageResource(match[1], form));
    });
  }

  start(): Promise<string> {
    return this.http.start();
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  markInvalid(number: string): void {
    this.invalid.add(number);
  }

  /** The next requests answer with these statuses (e.g. 503, 429), in order. */
  failNext(...statuses: number[]): void {
    this.failures.push(...statuses);
  }

  to(number: string): TwilioMessageRequest[] {
    return this.requests.filter((r) => r.form.To === number);
  }
}
