/**
 * Fields no log line may carry in clear: credentials (authorization headers, cookies, tokens, API keys,
 * passwords, secrets) and personal contact data (emails, phone numbers), wherever they sit in a logged
 * object down to four levels (`headers.authorization`, `data.client.email`, …).
 */
const SENSITIVE_KEYS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'email',
  'phone',
];

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);

export const REDACTED = '[redacted]';

export const REDACT_PATHS: readonly string[] = SENSITIVE_KEYS.flatMap((name) =>
  ['', '*', '*.*', '*.*.*'].map((prefix) => (prefix ? `${prefix}${key(name)}` : key(name).replace(/^\./, ''))),
);
