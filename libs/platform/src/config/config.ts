import { z, ZodRawShape } from 'zod';
import { kafkaConfigProblems, kafkaConfigShape } from './kafka-config';
import { isPublishedSecret, isSecretVariable, readFileVariables, redactUrlPassword, urlPassword } from './secrets';

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** A Postgres URL. TLS is set by DATABASE_SSLMODE and DATABASE_SSLROOTCERT, the same for every connection. */
const postgresUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL')
  .refine((v) => !/[?&](ssl|sslmode|sslrootcert|sslcert|sslkey)=/.test(v), 'give TLS settings in DATABASE_SSLMODE and DATABASE_SSLROOTCERT, not in the URL');

/** A Postgres timeout in milliseconds; 0 turns it off. */
const pgTimeout = (fallback: number) => z.coerce.number().int().min(0).max(86_400_000).default(fallback);

/** Variables every service reads. Each service extends this with its own. */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The pool's connections (requests, handlers): may be a pooler in transaction mode (DATABASE_POOLER). */
  DATABASE_URL: postgresUrl.default('postgres://postgres@127.0.0.1:5432/booking'),
  /** Connections that need a session of their own (LISTEN, session advisory locks, the outbox relay); default DATABASE_URL. */
  DATABASE_DIRECT_URL: postgresUrl.optional(),
  /** What migrations run as (the role that owns the schema); default DATABASE_DIRECT_URL. */
  DATABASE_MIGRATION_URL: postgresUrl.optional(),
  /** `transaction`: DATABASE_URL is a pooler in transaction mode (PgBouncer): no session state is relied on there. */
  DATABASE_POOLER: z.enum(['none', 'transaction']).default('none'),
  DATABASE_SSLMODE: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).default('disable'),
  /** PEM file of the CA(s) that signed the server's certificate (verify-ca, verify-full); default: Node's CA list. */
  DATABASE_SSLROOTCERT: z.string().min(1).optional(),
  /** Per pool connection: the longest one statement may run, the longest a lock may be waited for, idle in a transaction. */
  DB_STATEMENT_TIMEOUT_MS: pgTimeout(30_000),
  DB_LOCK_TIMEOUT_MS: pgTimeout(10_000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: pgTimeout(60_000),
  /** Apply pending migrations at start-up (the `migrate` command does it as its own step). */
  MIGRATE_ON_START: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** How long a migration waits for the migration lock, and each of its statements for a table lock. */
  MIGRATION_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'must be host:port[,host:port...]')
    .default('127.0.0.1:19092'),
  /** Prefix for topic and group names, so several environments (or test runs) can share one cluster. */
  KAFKA_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_.-]*$/, 'only a-z, 0-9, ".", "_" and "-" are allowed')
    .max(60)
    .default(''),
  /** Kafka's floor is the broker's group.min.session.timeout.ms (6 s by default). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300000).default(10000),
  /** TLS, SASL, topic creation and the topics' settings (kafka-config.ts). */
  ...kafkaConfigShape,
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60000).default(1000),
  /** The relay vacuums its outbox after deleting this many rows (0: leave it to autovacuum). See OutboxRelay. */
  OUTBOX_VACUUM_EVERY_ROWS: z.coerce.number().int().min(0).max(100_000_000).default(10000),
  /** Inbox rows older than this are deleted every 10 minutes (sweepInbox); keep it above the topics' retention. */
  INBOX_RETENTION_HOURS: z.coerce.number().int().min(1).max(87600).default(168),
  /**
   * On SIGTERM/SIGINT readiness answers 503 at once, and the instance keeps serving this long before it
   * stops accepting connections, so load balancers notice first (see runService).
   */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  /** The whole shutdown's bound, from the signal to the exit; below Kubernetes' 30 s grace period by default. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(25000),
  HTTP_HOST: z.string().default('127.0.0.1'),
  /** When set, GET /metrics is served on this port (on HTTP_HOST) and not on the service port (MetricsServer). */
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  HTTP_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/).default('64kb'),
  /** Connections the kernel queues before the process accepts them (Node's default 511); a storm beyond it is reset, not answered. */
  HTTP_LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65_535).default(511),
  /**
   * Admission control (installAdmissionControl): past any of these a request is answered 503 OVERLOADED
   * at once; 0 turns a check off. The pool and event-loop checks are off by default: the right values
   * depend on the pool size and the machine (see the README).
   */
  HTTP_MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(1_000_000).default(1024),
  DB_POOL_MAX_WAITERS: z.coerce.number().int().min(0).max(1_000_000).default(0),
  EVENT_LOOP_LAG_MAX_MS: z.coerce.number().int().min(0).max(600_000).default(0),
  OVERLOAD_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
};

/** A yes/no variable: `true`/`1` or `false`/`0`. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

export { port as portVariable, flag as flagVariable };

export type BaseConfig = z.infer<z.ZodObject<typeof baseConfigShape>>;

/**
 * Reads and validates the environment once, at start-up. Every bad or missing variable is named in
 * one error, so an operator fixes them all in one go. Any variable can be given as a file instead
 * (`<NAME>_FILE`, the Docker and Kubernetes secrets convention). Errors never print a secret
 * (`secretVariable`) nor the password of a URL. In production, a secret or URL password that is
 * published in this repository (PUBLISHED_SECRETS) is refused.
 */
export function loadConfig<S extends ZodRawShape>(
  service: string,
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const schema = z.object(shape);
  const names = Object.keys(shape);
  const files = readFileVariables(names, env);
  const input: Record<string, string | undefined> = {};
  for (const key of names) {
    const value = files.values[key] ?? env[key];
    input[key] = value === '' ? undefined : value;
  }
  const problems = [...files.problems];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const given = input[name];
        if (given === undefined) return `${name} is missing: ${issue.message}`;
        if (isSecretVariable(shape[name])) return `${name} is invalid: ${issue.message}`;
        return `${name}=${JSON.stringify(redactUrlPassword(given))} is invalid: ${issue.message}`;
      }),
    );
  }
  // Variables valid alone can still contradict each other (a SASL mechanism without a password).
  if (parsed.success && 'KAFKA_SASL_MECHANISM' in shape) problems.push(...kafkaConfigProblems(parsed.data as never));
  if (input.NODE_ENV === 'production') problems.push(...publishedSecretProblems(shape, input));
  if (problems.length) throw new ConfigError(service, problems);
  return (parsed as { data: z.infer<z.ZodObject<S>> }).data;
}

function publishedSecretProblems(shape: ZodRawShape, input: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (isSecretVariable(shape[name]) && isPublishedSecret(value)) {
      problems.push(`${name} is a value published in this repository (a development default or an example); production needs a secret of its own`);
    }
    const password = urlPassword(value);
    if (password !== undefined && isPublishedSecret(password)) {
      problems.push(`${name} carries a credential published in this repository (a development default or an example); production needs a secret of its own`);
    }
  }
  return problems;
}
