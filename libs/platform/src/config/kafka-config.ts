import { z } from 'zod';
import { secretVariable } from './secrets';

/** A yes/no variable: `true`/`1` or `false`/`0`. */
const yesNo = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/**
 * A PEM certificate or key: the path of a PEM file, or the PEM text itself (so `<NAME>_FILE`, which
 * puts a file's content in the variable, works too).
 */
const pem = z.string().min(1).optional();

/** The families topics are configured by: one per event topic, and every dead-letter topic. */
export const TOPIC_FAMILIES = ['appointment', 'provider', 'payment', 'reminder', 'notification', 'dlq'] as const;
export type TopicFamily = (typeof TOPIC_FAMILIES)[number];

const TOPIC_SETTINGS = {
  PARTITIONS: z.coerce.number().int().min(1).max(10_000),
  REPLICATION_FACTOR: z.coerce.number().int().min(1).max(32),
  MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(32),
  /** Kafka's retention.ms in hours; -1 keeps everything. */
  RETENTION_HOURS: z.coerce.number().int().min(-1).max(876_000).refine((v) => v !== 0, 'must be -1 (keep everything) or at least 1'),
} as const;
type TopicSetting = keyof typeof TOPIC_SETTINGS;

const familyShape = Object.fromEntries(
  TOPIC_FAMILIES.flatMap((family) =>
    (Object.keys(TOPIC_SETTINGS) as TopicSetting[]).map((setting) => [`KAFKA_TOPIC_${family.toUpperCase()}_${setting}`, TOPIC_SETTINGS[setting].optional()]),
  ),
) as unknown as Record<`KAFKA_TOPIC_${Uppercase<TopicFamily>}_${TopicSetting}`, z.ZodOptional<z.ZodType<number, z.ZodTypeDef, unknown>>>;

/**
 * Kafka security (TLS, SASL) and the topics' settings. Part of every service's base configuration; see
 * the README (Configuration, Kafka security, Topics).
 */
export const kafkaConfigShape = {
  /** TLS to every broker. */
  KAFKA_TLS: yesNo(false),
  /** The CA that signed the brokers' certificates (a PEM file or PEM text); default: Node's CA list. */
  KAFKA_TLS_CA: pem,
  /** A client certificate and its key, for brokers that ask for one (both or neither). */
  KAFKA_TLS_CERT: pem,
  KAFKA_TLS_KEY: secretVariable(1),
  /** The name the brokers' certificates must carry; default the host name of each broker dialled. */
  KAFKA_TLS_SERVERNAME: z.string().min(1).optional(),
  /** `false`: the certificate must be signed by the CA, but may name any host. */
  KAFKA_TLS_CHECK_HOSTNAME: yesNo(true),
  KAFKA_SASL_MECHANISM: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: secretVariable(12),
  /** `false`: the service never creates a topic; it checks that its topics exist and fails the start naming the missing ones. */
  KAFKA_CREATE_TOPICS: yesNo(true),
  /** Defaults of every topic family (each can be set per family, `KAFKA_TOPIC_<FAMILY>_<SETTING>`). */
  KAFKA_TOPIC_PARTITIONS: TOPIC_SETTINGS.PARTITIONS.default(3),
  /** Default: the broker's default.replication.factor. */
  KAFKA_TOPIC_REPLICATION_FACTOR: TOPIC_SETTINGS.REPLICATION_FACTOR.optional(),
  /** Default: the broker's min.insync.replicas. */
  KAFKA_TOPIC_MIN_INSYNC_REPLICAS: TOPIC_SETTINGS.MIN_INSYNC_REPLICAS.optional(),
  /** Default: the broker's log.retention.*. */
  KAFKA_TOPIC_RETENTION_HOURS: TOPIC_SETTINGS.RETENTION_HOURS.optional(),
  ...familyShape,
};

export type KafkaConfig = z.infer<z.ZodObject<typeof kafkaConfigShape>> & { NODE_ENV?: string };

/** What one family's topics are created with; undefined: the broker's default. */
export type TopicSettings = {
  partitions: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  retentionHours?: number;
};

/** A family's settings; `undefined` (a topic no family holds, as in tests): the defaults. */
export function topicSettings(config: KafkaConfig, family: TopicFamily | undefined): TopicSettings {
  const values = config as unknown as Record<string, number | undefined>;
  const get = (setting: TopicSetting): number | undefined =>
    (family && values[`KAFKA_TOPIC_${family.toUpperCase()}_${setting}`]) ?? (family === 'dlq' && setting === 'PARTITIONS' ? 1 : values[`KAFKA_TOPIC_${setting}`]);
  return {
    partitions: get('PARTITIONS') ?? 3,
    replicationFactor: get('REPLICATION_FACTOR'),
    minInsyncReplicas: get('MIN_INSYNC_REPLICAS'),
    retentionHours: get('RETENTION_HOURS'),
  };
}

/** Problems between Kafka variables (each is valid alone): named, never printing a secret. */
export function kafkaConfigProblems(config: KafkaConfig): string[] {
  const problems: string[] = [];
  const sasl = config.KAFKA_SASL_MECHANISM;
  if (sasl !== 'none') {
    if (!config.KAFKA_SASL_USERNAME) problems.push(`KAFKA_SASL_USERNAME is missing: KAFKA_SASL_MECHANISM=${sasl} needs a user name`);
    if (!config.KAFKA_SASL_PASSWORD) problems.push(`KAFKA_SASL_PASSWORD is missing: KAFKA_SASL_MECHANISM=${sasl} needs a password`);
    if (sasl === 'plain' && !config.KAFKA_TLS && config.NODE_ENV === 'production') {
      problems.push('KAFKA_SASL_MECHANISM=plain sends the password as it is: production needs KAFKA_TLS=true with it (or SCRAM)');
    }
  } else {
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (config[name] !== undefined) problems.push(`${name} is set but KAFKA_SASL_MECHANISM is none: set the mechanism (plain, scram-sha-256, scram-sha-512)`);
    }
  }
  if (!config.KAFKA_TLS) {
    for (const name of ['KAFKA_TLS_CA', 'KAFKA_TLS_CERT', 'KAFKA_TLS_KEY', 'KAFKA_TLS_SERVERNAME'] as const) {
      if (config[name] !== undefined) problems.push(`${name} is set but KAFKA_TLS is false: set KAFKA_TLS=true`);
    }
  }
  if ((config.KAFKA_TLS_CERT === undefined) !== (config.KAFKA_TLS_KEY === undefined)) {
    problems.push('KAFKA_TLS_CERT and KAFKA_TLS_KEY go together: give both (a client certificate and its key) or neither');
  }
  for (const family of TOPIC_FAMILIES) {
    const { replicationFactor, minInsyncReplicas } = topicSettings(config, family);
    if (replicationFactor !== undefined && minInsyncReplicas !== undefined && minInsyncReplicas > replicationFactor) {
      problems.push(`the ${family} topics would have min.insync.replicas ${minInsyncReplicas} above their replication factor ${replicationFactor}: no write with acks=all could succeed (KAFKA_TOPIC_*MIN_INSYNC_REPLICAS, KAFKA_TOPIC_*REPLICATION_FACTOR)`);
    }
  }
  return problems;
}
