import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, SASLOptions } from 'kafkajs';
import { ConfigError } from '../config/config';
import { KafkaConfig } from '../config/kafka-config';

/** How a client reaches the brokers: kafkajs's `ssl` and `sasl` options, built from the KAFKA_TLS* and KAFKA_SASL_* variables. */
export type KafkaSecurity = {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
};

type SecurityConfig = Pick<
  KafkaConfig,
  'KAFKA_TLS' | 'KAFKA_TLS_CA' | 'KAFKA_TLS_CERT' | 'KAFKA_TLS_KEY' | 'KAFKA_TLS_SERVERNAME' | 'KAFKA_TLS_CHECK_HOSTNAME' | 'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD'
>;

/** A PEM variable's text: the value itself when it is PEM, else the content of the file it names. */
function pemOf(name: string, value: string | undefined, problems: string[], secret = false): string | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN ')) return value;
  try {
    const text = readFileSync(value, 'utf8');
    if (!text.includes('-----BEGIN ')) problems.push(`${name}${secret ? '' : `=${JSON.stringify(value)}`}: the file is not PEM (no -----BEGIN line)`);
    return text;
  } catch (error) {
    problems.push(`${name}${secret ? '' : `=${JSON.stringify(value)}`} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
}

/** The kafkajs options of the configured TLS and SASL; a PEM file that cannot be read fails here, naming its variable. */
export function kafkaSecurity(service: string, config: SecurityConfig): KafkaSecurity {
  const security: KafkaSecurity = {};
  const problems: string[] = [];
  if (config.KAFKA_TLS) {
    const ssl: ConnectionOptions = { rejectUnauthorized: true };
    const ca = pemOf('KAFKA_TLS_CA', config.KAFKA_TLS_CA, problems);
    const cert = pemOf('KAFKA_TLS_CERT', config.KAFKA_TLS_CERT, problems);
    const key = pemOf('KAFKA_TLS_KEY', config.KAFKA_TLS_KEY, problems, true);
    if (ca) ssl.ca = ca;
    if (cert) ssl.cert = cert;
    if (key) ssl.key = key;
    if (config.KAFKA_TLS_SERVERNAME) ssl.servername = config.KAFKA_TLS_SERVERNAME;
    if (!config.KAFKA_TLS_CHECK_HOSTNAME) ssl.checkServerIdentity = () => undefined;
    security.ssl = ssl;
  }
  if (config.KAFKA_SASL_MECHANISM !== 'none' && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD) {
    security.sasl = { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME, password: config.KAFKA_SASL_PASSWORD } as SASLOptions;
  }
  if (problems.length) throw new ConfigError(service, problems);
  return security;
}

/**
 * A start that can never succeed however often it is retried: the broker refuses the credentials,
 * its certificate is not trusted, topics are missing where the service may not create them. Its
 * message names the cause and the variables to look at.
 */
export class KafkaAccessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaAccessError';
  }
}

/** Node's codes for a certificate the client does not trust. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
]);

type ErrorLike = { name?: string; message?: string; code?: string; type?: string; broker?: string; cause?: unknown; originalError?: unknown };

function* causes(error: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>();
  for (let e = error as ErrorLike | undefined; e && typeof e === 'object' && !seen.has(e); e = (e.cause ?? e.originalError) as ErrorLike | undefined) {
    seen.add(e);
    yield e;
  }
}

/**
 * What makes a Kafka error one that no retry fixes, in words an operator acts on; undefined for
 * anything else (a broker that is down or restarting is retried as before).
 */
export function kafkaAccessProblem(error: unknown, config: Pick<SecurityConfig, 'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_TLS'>): string | undefined {
  for (const e of causes(error)) {
    const where = e.broker ? ` at ${e.broker}` : '';
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      return `Kafka refused the SASL login${where} of user ${JSON.stringify(config.KAFKA_SASL_USERNAME)} with ${config.KAFKA_SASL_MECHANISM.toUpperCase()} (${e.message}): check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM`;
    }
    if (e.code && UNTRUSTED.has(e.code)) {
      return `the TLS certificate of the Kafka broker${where} is not trusted (${e.code}: ${stripPrefix(e.message)}): KAFKA_TLS_CA must name the CA that signed it`;
    }
    if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return `the TLS certificate of the Kafka broker${where} does not name the host dialled (${stripPrefix(e.message)}): use a broker address the certificate names, or set KAFKA_TLS_SERVERNAME`;
    }
    if (e.code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' || e.code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || e.code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA') {
      return `the Kafka broker${where} refused this client's certificate, or wants one (${e.code}): check KAFKA_TLS_CERT and KAFKA_TLS_KEY`;
    }
    if (config.KAFKA_TLS && (e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || e.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG')) {
      return `the Kafka broker${where} does not speak TLS on that port (${e.code}): use its TLS listener, or KAFKA_TLS=false`;
    }
    if (e.type === 'TOPIC_AUTHORIZATION_FAILED' || e.type === 'CLUSTER_AUTHORIZATION_FAILED') {
      return `Kafka refused an operation on the topics (${e.type}): grant the user its topics, or create them beforehand (npm run topics -- apply) and run with KAFKA_CREATE_TOPICS=false`;
    }
    if (e.type === 'UNSUPPORTED_SASL_MECHANISM' || e.type === 'ILLEGAL_SASL_STATE') {
      return `the Kafka broker${where} does not take ${config.KAFKA_SASL_MECHANISM.toUpperCase()} on that listener (${e.type}): check KAFKA_SASL_MECHANISM and the broker address`;
    }
  }
  return undefined;
}

const stripPrefix = (message = '') => message.replace(/^Connection error: /, '');

/** Rethrows a Kafka error as a KafkaAccessError when no retry can fix it (see kafkaAccessProblem). */
export function explainKafkaError(error: unknown, config: Parameters<typeof kafkaAccessProblem>[1]): never {
  const problem = kafkaAccessProblem(error, config);
  if (problem) throw new KafkaAccessError(problem, { cause: error });
  throw error;
}

/**
 * One connection to the cluster without retries, before the service's clients (which retry a broker
 * that is down for a while): a refused login or an untrusted certificate fails the start at once, naming
 * the cause, instead of after every retry. Anything else (no broker answering yet) is left to them.
 * Nothing to check without TLS or SASL.
 */
export async function checkKafkaAccess(brokers: string[], security: KafkaSecurity, config: Parameters<typeof kafkaAccessProblem>[1]): Promise<void> {
  if (!security.ssl && !security.sasl) return;
  const admin = new Kafka({ clientId: 'access-check', brokers, ...security, connectionTimeout: 5000, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
  } catch (error) {
    const problem = kafkaAccessProblem(error, config);
    if (problem) throw new KafkaAccessError(problem, { cause: error });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
