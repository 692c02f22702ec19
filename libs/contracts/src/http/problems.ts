import { z } from 'zod';

/** Who answers with a problem code. The gateway passes scheduling's 4xx problems on unchanged. */
export type ProblemOrigin = 'every service' | 'gateway' | 'scheduling' | 'scheduling consumer';

export type ProblemCodeEntry = {
  /** The HTTP statuses answered with it; empty: any (the framework's own status). */
  readonly status: readonly number[];
  readonly origin: ProblemOrigin;
  /** One line: what happened and what the caller can do. */
  readonly meaning: string;
};

/**
 * Every stable `code` of an RFC 9457 problem the services answer (or, for `scheduling consumer`,
 * dead-letter with): the one source for the code's status, the OpenAPI enum of the gateway's error
 * responses and the README's list (`npm run contracts -- readme`). `ProblemError` accepts only these
 * codes, each with one of its statuses (checked when compiling).
 */
export const PROBLEM_CODES = {
  // Refused before any handler: the request itself.
  VALIDATION_FAILED: { status: [400], origin: 'every service', meaning: 'A path parameter, query parameter or body field is invalid; `errors[]` names each one (`body.client.email`, `query.from`, `path.id`)' },
  MALFORMED_JSON: { status: [400], origin: 'every service', meaning: 'The body is not JSON (an object or an array) in UTF-8' },
  MALFORMED_URL: { status: [400], origin: 'every service', meaning: 'The URL is not valid (a broken percent-encoding)' },
  MALFORMED_REQUEST: { status: [400], origin: 'every service', meaning: 'The request is not valid HTTP, or could not be routed' },
  INVALID_ID: { status: [400], origin: 'every service', meaning: 'A path id is not a UUID' },
  INVALID_IDEMPOTENCY_KEY: { status: [400], origin: 'every service', meaning: 'Idempotency-Key is not 1-255 characters of A-Z a-z 0-9 . _ : -' },
  BAD_REQUEST: { status: [400], origin: 'every service', meaning: 'A request the framework refused before the handler' },
  REQUEST_TIMEOUT: { status: [408], origin: 'every service', meaning: 'The request did not arrive in time' },
  PAYLOAD_TOO_LARGE: { status: [413], origin: 'every service', meaning: 'The body is larger than `HTTP_BODY_LIMIT`' },
  URI_TOO_LONG: { status: [414], origin: 'every service', meaning: 'A path segment of the URL is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: [415], origin: 'every service', meaning: 'A body that is not `application/json`' },
  UNSUPPORTED_CONTENT_ENCODING: { status: [415], origin: 'every service', meaning: 'A `Content-Encoding` other than `identity`: bodies are read uncompressed' },
  UNSUPPORTED_CHARSET: { status: [415], origin: 'every service', meaning: 'A JSON body in a charset other than UTF-8' },
  HEADERS_TOO_LARGE: { status: [431], origin: 'every service', meaning: 'The request line or headers are too large' },
  NOT_FOUND: { status: [404], origin: 'every service', meaning: 'No such route (or, from the appointment domain, no such appointment)' },
  METHOD_NOT_ALLOWED: { status: [405], origin: 'every service', meaning: 'The route does not take this method' },
  CONFLICT: { status: [409], origin: 'every service', meaning: 'A conflict the framework raised' },
  OVERLOADED: { status: [503], origin: 'every service', meaning: 'Past the admission limits: nothing was done; retry after `Retry-After`' },
  INTERNAL: { status: [500], origin: 'every service', meaning: 'An unexpected error; it has been logged' },
  HTTP_ERROR: { status: [], origin: 'every service', meaning: 'Any other HTTP error the framework raised, with its own status' },
  // Idempotency-Key (gateway commands, scheduling bookings).
  IDEMPOTENCY_KEY_IN_USE: { status: [409], origin: 'every service', meaning: 'A request with this Idempotency-Key is still running; retry later to get its answer' },
  IDEMPOTENCY_KEY_REUSED: { status: [422], origin: 'every service', meaning: 'This Idempotency-Key was used with another request (method, path or body)' },
  // The gateway.
  UNAUTHENTICATED: { status: [401], origin: 'gateway', meaning: 'No bearer token' },
  INVALID_TOKEN: { status: [401], origin: 'gateway', meaning: 'The bearer token is malformed, wrongly signed, or its issuer, audience or claims are not accepted' },
  TOKEN_EXPIRED: { status: [401], origin: 'gateway', meaning: 'The bearer token has expired' },
  FORBIDDEN: { status: [403], origin: 'gateway', meaning: 'The token\'s roles do not allow this action' },
  RATE_LIMITED: { status: [429], origin: 'gateway', meaning: 'Too many requests from this caller; retry after `Retry-After`' },
  AUTH_KEYS_UNAVAILABLE: { status: [503], origin: 'gateway', meaning: 'The signing keys (JWKS) could not be fetched; retry shortly' },
  SCHEDULING_UNAVAILABLE: { status: [503], origin: 'gateway', meaning: 'Scheduling is unreachable or unavailable; retry shortly' },
  SCHEDULING_TIMEOUT: { status: [504], origin: 'gateway', meaning: 'Scheduling did not answer in time; a booking may still commit: repeat it with its `idempotencyKey` to learn the outcome' },
  SCHEDULING_FAILED: { status: [502], origin: 'gateway', meaning: 'Scheduling failed to answer the request; it has been logged' },
  UPSTREAM_CONTRACT_VIOLATION: { status: [502], origin: 'gateway', meaning: 'Scheduling answered with something this API does not promise; it has been logged' },
  // Scheduling (passed on by the gateway when 4xx).
  PROVIDER_NOT_FOUND: { status: [404], origin: 'scheduling', meaning: 'No such provider (or it was deleted)' },
  APPOINTMENT_NOT_FOUND: { status: [404], origin: 'scheduling', meaning: 'No such appointment, or not one the caller may see' },
  BLOCKED_TIME_NOT_FOUND: { status: [404], origin: 'scheduling', meaning: 'No such blocked time of this provider' },
  PROVIDER_EXISTS: { status: [409], origin: 'scheduling', meaning: 'A provider with this id exists already' },
  INVALID_CURSOR: { status: [400], origin: 'scheduling', meaning: '`cursor` is not one this API returned' },
  RANGE_TOO_LONG: { status: [400], origin: 'scheduling', meaning: 'A slot query spans more than 31 days' },
  UNKNOWN_PROVIDER: { status: [422], origin: 'scheduling', meaning: 'The booking names no provider' },
  SLOT_UNAVAILABLE: { status: [409], origin: 'scheduling', meaning: 'The slot was taken or blocked meanwhile; pick another' },
  SLOT_NOT_ON_GRID: { status: [422], origin: 'scheduling', meaning: 'Not a slot of the provider: off the slot grid or outside the working hours' },
  SLOT_LENGTH_MISMATCH: { status: [422], origin: 'scheduling', meaning: '`end` is not `start` plus the provider\'s slot duration' },
  SLOT_TOO_SOON: { status: [422], origin: 'scheduling', meaning: 'The slot is in the past or within the provider\'s minimum notice' },
  SLOT_BEYOND_HORIZON: { status: [422], origin: 'scheduling', meaning: 'The slot is beyond the provider\'s booking horizon' },
  ILLEGAL_TRANSITION: { status: [409], origin: 'scheduling', meaning: 'The appointment\'s status does not allow this command (`currentStatus` says which it is)' },
  ALREADY_CANCELLED: { status: [409], origin: 'scheduling', meaning: 'The appointment is cancelled already (a second cancel never refunds twice)' },
  NOT_STARTED_YET: { status: [409], origin: 'scheduling', meaning: 'Completing or marking a no-show before the appointment starts' },
  HOLD_NOT_EXPIRED: { status: [409], origin: 'scheduling', meaning: 'An unpaid hold cannot expire before its `holdExpiresAt`' },
  ALREADY_EXISTS: { status: [409], origin: 'scheduling', meaning: 'The appointment exists already' },
  INVALID_COMMAND: { status: [422], origin: 'scheduling', meaning: 'The command contradicts the appointment (times, amounts, currency)' },
  PROVIDER_CHANGING: { status: [503], origin: 'scheduling', meaning: 'The provider changed under the booking three times running; retry it' },
  CHANGE_FEED_UNAVAILABLE: { status: [503], origin: 'scheduling', meaning: 'This instance hears no availability changes right now; reconnect shortly' },
  NOT_THIS_APPOINTMENTS_REQUEST: { status: [422], origin: 'scheduling consumer', meaning: 'A payment outcome that does not answer the appointment\'s own request: dead-lettered, never an HTTP answer' },
} as const satisfies Record<string, ProblemCodeEntry>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** The statuses a code is answered with (`number` for a code of any status). */
export type ProblemStatus<C extends ProblemCode> = (typeof PROBLEM_CODES)[C]['status'] extends readonly [] ? number : (typeof PROBLEM_CODES)[C]['status'][number];

export const PROBLEM_CODE_LIST = Object.keys(PROBLEM_CODES) as [ProblemCode, ...ProblemCode[]];

export function isProblemCode(code: string): code is ProblemCode {
  return Object.prototype.hasOwnProperty.call(PROBLEM_CODES, code);
}

/** The codes that may come with `status`, in the order of PROBLEM_CODES. */
export function problemCodesFor(status: number, codes: readonly ProblemCode[] = PROBLEM_CODE_LIST): ProblemCode[] {
  return codes.filter((code) => {
    const statuses: readonly number[] = PROBLEM_CODES[code].status;
    return statuses.length === 0 || statuses.includes(status);
  });
}

/**
 * An RFC 9457 problem whose `code` is one of `codes`, described one line per code (OpenAPI 3.0 has
 * no description per enum value: the lines are the schema's description, and `x-enum-descriptions`).
 */
export function problemSchema(codes: readonly ProblemCode[] = PROBLEM_CODE_LIST) {
  const [first, ...rest] = codes.length > 0 ? codes : PROBLEM_CODE_LIST;
  return z
    .object({
      type: z.string().url(),
      title: z.string(),
      status: z.number().int(),
      code: z.enum([first, ...rest]).describe(`Stable, machine-readable error code:\n${codes.map((code) => `- \`${code}\`: ${PROBLEM_CODES[code].meaning}`).join('\n')}`),
      detail: z.string().describe('Human-readable explanation'),
      instance: z.string().optional(),
      errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    })
    .describe('RFC 9457 problem details');
}

/** The README's list of problem codes (between its `problem-codes` markers), generated from PROBLEM_CODES. */
export function problemCodesMarkdown(): string {
  const rows = PROBLEM_CODE_LIST.map((code) => {
    const { status, origin, meaning } = PROBLEM_CODES[code];
    return `| \`${code}\` | ${status.length === 0 ? 'any' : status.join(', ')} | ${origin} | ${meaning} |`;
  });
  return ['| code | status | answered by | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

const BEGIN = '<!-- problem-codes:begin (generated from PROBLEM_CODES in libs/contracts: npm run contracts -- readme) -->';
const END = '<!-- problem-codes:end -->';

/** `readme` with its list of problem codes (between the markers) generated afresh. */
export function withProblemCodes(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`the README has no list of problem codes: put the lines\n${BEGIN}\n${END}\nwhere it belongs`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${problemCodesMarkdown()}\n${readme.slice(end)}`;
}
