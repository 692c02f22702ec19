import { DeliveryError } from './channel';

const MAX_ERROR_LENGTH = 500;

const clip = (value: string) => (value.length > MAX_ERROR_LENGTH ? `${value.slice(0, MAX_ERROR_LENGTH - 1)}…` : value);
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * nodemailer errors: the server's reply code decides (RFC 5321 §4.2.1: 4yz is transient, 5yz is
 * permanent, e.g. 550 mailbox unavailable, 553 bad address). Without a reply code the server was not
 * reached or dropped us (connection refused, timeouts, TLS): transient. An address nodemailer refuses
 * before talking to the server (EENVELOPE without a reply) is permanent.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const e = error as { responseCode?: unknown; code?: unknown };
  const message = clip(`SMTP: ${describe(error)}`);
  if (typeof e.responseCode === 'number') return new DeliveryError(message, e.responseCode >= 500, { cause: error });
  return new DeliveryError(message, e.code === 'EENVELOPE', { cause: error });
}

/**
 * twilio SDK errors: RestException carries the HTTP status and Twilio's error code. Rate limiting
 * (429), timeouts (408) and server errors (5xx) are worth retrying; any other 4xx (21211 invalid
 * number, 21614 not a mobile number, 21610 recipient unsubscribed, 20003 bad credentials) will fail the
 * same way again. No status at all means the API was not reached: transient.
 */
export function classifyTwilioError(error: unknown): DeliveryError {
  const e = error as { status?: unknown; code?: unknown };
  if (typeof e.status !== 'number') return new DeliveryError(clip(`Twilio unreachable: ${describe(error)}`), false, { cause: error });
  const code = e.code === undefined ? '' : ` error ${String(e.code)}`;
  const message = clip(`Twilio HTTP ${e.status}${code}: ${describe(error)}`);
  return new DeliveryError(message, !isRetryableStatus(e.status), { cause: error });
}

/**
 * A push endpoint's answer to a non-2xx status. 404 and 410 say the endpoint is gone; other 4xx
 * (bad signature, payload refused, redirects we do not follow) will not change on retry.
 */
export function classifyPushStatus(status: number, detail: string): DeliveryError {
  const gone = status === 404 || status === 410 ? ' (endpoint gone)' : '';
  return new DeliveryError(clip(`push endpoint answered HTTP ${status}${gone}${detail ? `: ${detail}` : ''}`), !isRetryableStatus(status));
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
