import { readFileSync } from 'node:fs';
import { z, ZodTypeAny } from 'zod';

/**
 * Every secret value that is written down somewhere in this repository: development defaults,
 * Compose defaults, README and test examples. Anyone who has read the repository knows them, so a
 * production start refuses each of them (see `loadConfig`). `test/published-secrets.int.spec.ts`
 * greps the repository for secret-looking assignments and fails when one is missing here.
 */
export const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  // api-gateway: the development JWT secret (DEV_JWT_SECRET) and Compose's former default
  'booking-dev-secret-never-use-outside-development',
  'compose-local-secret-change-me-0123456789',
  // notification: the development Twilio token and push-signing secret
  'development-token',
  'development-push-signing-secret',
  // infra/kafka/kafka.sh: the development SASL password of its KAFKA_SECURITY=sasl_ssl broker
  'booking-kafka-dev-password',
  // Compose's Postgres password (POSTGRES_PASSWORD and the DATABASE_URL built from it)
  'booking',
  // the example in the platform's DATABASE_URL hint
  'password',
  // values written in tests
  'a-secret-of-at-least-thirty-two-characters!',
  'another-secret-of-at-least-thirty-two-chars',
  'not-the-gateway-secret-but-long-enough-0123456789',
  'platform-flow-test-secret-0123456789abcdef',
  'prometheus-e2e-test-secret-0123456789abcdef',
  'tracing-e2e-test-secret-0123456789abcdef',
  'a-test-signing-secret',
  'push-secret-for-tests',
  'not-the-right-secret',
  'test-auth-token',
  'long-enough',
  'hunter22',
]);

const secretSchemas = new WeakSet<ZodTypeAny>();

/**
 * A variable that holds a secret: at least `minLength` characters, never printed in an error,
 * refused in production when it is one of the PUBLISHED_SECRETS.
 */
export function secretVariable(minLength: number) {
  const schema = z.string().min(minLength, `must be at least ${minLength} characters`).optional();
  secretSchemas.add(schema);
  return schema;
}

export function isSecretVariable(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && secretSchemas.has(schema as ZodTypeAny);
}

export function isPublishedSecret(value: string): boolean {
  return PUBLISHED_SECRETS.has(value) || PUBLISHED_SECRETS.has(value.trim());
}

const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@/?#\s]*)@/i;

/** The password in `scheme://user:password@host…`, if any (percent-decoded). */
export function urlPassword(value: string): string | undefined {
  const match = URL_CREDENTIALS.exec(value);
  if (!match || match[2] === '') return undefined;
  try {
    return decodeURIComponent(match[2]);
  } catch {
    return match[2];
  }
}

/** `scheme://user:password@host…` with the password replaced by `***`, so a URL can be printed. */
export function redactUrlPassword(value: string): string {
  return value.replace(URL_CREDENTIALS, '$1:***@');
}

/**
 * `<NAME>_FILE` (the Docker and Kubernetes secrets convention): the variable's value is the content of
 * that file, without its final line break. Returns the variables read this way and the problems met;
 * a problem names the variable and the path, never the content.
 */
export function readFileVariables(names: readonly string[], env: NodeJS.ProcessEnv): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name} and ${name}_FILE are both set: give one`);
      continue;
    }
    try {
      values[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE=${JSON.stringify(file)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return { values, problems };
}
