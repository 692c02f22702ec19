import { Admin, ConfigResourceTypes } from 'kafkajs';
import type { Logger } from 'pino';
import { dlqTopic, TOPICS } from '@booking/contracts';
import { KafkaConfig, TopicFamily, topicSettings } from '../config/kafka-config';
import { KafkaAccessError, kafkaAccessProblem } from './security';

/** One topic as the configuration wants it. Settings left undefined are the broker's defaults. */
export type TopicSpec = {
  /** The full (namespaced) name. */
  name: string;
  /** Undefined: a topic of no family (tests' own topics), made with the defaults. */
  family?: TopicFamily;
  partitions: number;
  replicationFactor?: number;
  /** Topic configs set on it: min.insync.replicas and retention.ms, when configured. */
  configs: Record<string, string>;
};

const FAMILY_OF_TOPIC = new Map<string, TopicFamily>(Object.entries(TOPICS).map(([family, topic]) => [topic, family as TopicFamily]));

/** The family of a topic name as the contracts know it (without namespace): its own, or `dlq`; undefined for another topic. */
export function topicFamily(topic: string): TopicFamily | undefined {
  if (topic.endsWith('.dlq')) return 'dlq';
  return FAMILY_OF_TOPIC.get(topic);
}

/**
 * What each of `topics` (contract names, without namespace) and its dead-letter topic are created
 * with, from the KAFKA_TOPIC_* variables (see `topicSettings`).
 */
export function topicSpecs(config: KafkaConfig & { KAFKA_NAMESPACE: string }, topics: readonly string[]): TopicSpec[] {
  const names = [...new Set(topics.flatMap((t) => [t, dlqTopic(t)]))];
  return names.map((topic) => {
    const family = topicFamily(topic);
    const settings = topicSettings(config, family);
    const configs: Record<string, string> = {};
    if (settings.minInsyncReplicas !== undefined) configs['min.insync.replicas'] = String(settings.minInsyncReplicas);
    if (settings.retentionHours !== undefined) configs['retention.ms'] = String(settings.retentionHours < 0 ? -1 : settings.retentionHours * 3_600_000);
    return {
      name: config.KAFKA_NAMESPACE ? `${config.KAFKA_NAMESPACE}.${topic}` : topic,
      family,
      partitions: settings.partitions,
      replicationFactor: settings.replicationFactor,
      configs,
    };
  });
}

export type EnsureTopicsOptions = {
  /** false (KAFKA_CREATE_TOPICS=false): only check that every topic exists; a missing one fails at once. */
  create?: boolean;
  logger?: Logger;
  attempts?: number;
};

/**
 * Creates the missing topics up front with their configured settings (KRaft brokers do not
 * auto-create cleanly for kafkajs, and auto-creation is off on our broker), or, with `create: false`,
 * only checks that they exist and fails naming the missing ones. Services start together and create
 * the same topics at once; the loser of that race can see "topic already exists" or, briefly, "this
 * server does not host this topic-partition" while metadata settles, so the whole step is retried
 * until every partition has a leader. A topic that exists is never changed (its partition count least
 * of all: keys would move to other partitions); one that differs from the plan is logged
 * (`npm run topics -- plan` shows the differences).
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[], options: EnsureTopicsOptions = {}): Promise<void> {
  const { create = true, logger, attempts = 10 } = options;
  if (specs.length === 0) return;
  const wanted = specs.map((s) => s.name);
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length && !create) {
        throw new KafkaAccessError(
          `Kafka topics missing (KAFKA_CREATE_TOPICS=false, so the service creates none): ${missing.map((s) => s.name).join(', ')}. Create them with \`npm run topics -- apply\` (or by your cluster's tooling) before starting the service`,
        );
      }
      if (missing.length) {
        await admin
          .createTopics({
            waitForLeaders: false,
            topics: missing.map((s) => ({
              topic: s.name,
              numPartitions: s.partitions,
              replicationFactor: s.replicationFactor ?? -1,
              configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
            })),
          })
          .catch((error) => {
            if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
          });
      }
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: wanted });
      const leaderless = metadata.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) {
        for (const spec of specs) {
          const partitions = metadata.find((t) => t.name === spec.name)?.partitions.length;
          if (partitions !== undefined && partitions !== spec.partitions) {
            logger?.warn({ topic: spec.name, partitions, planned: spec.partitions }, 'topic has another partition count than configured; services never change it (see `npm run topics -- plan`)');
          }
        }
        return;
      }
      throw new Error(`topics without leaders yet: ${leaderless.map((t) => t.name).join(', ')}`);
    } catch (error) {
      if (error instanceof KafkaAccessError) throw error;
      const problem = kafkaAccessProblem(error, { KAFKA_SASL_MECHANISM: 'none', KAFKA_TLS: false });
      if (problem) throw new KafkaAccessError(problem, { cause: error });
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** A topic as the cluster has it. */
export type TopicState = {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs (set on the topic) and the effective value of the ones the plan manages. */
  configs: Record<string, string>;
  /** Configs set on the topic itself (not defaults): kept when the plan alters others. */
  overrides: Record<string, string>;
};

/** What `plan` would do to one topic. */
export type TopicChange = {
  spec: TopicSpec;
  state?: TopicState;
  action: 'create' | 'alter' | 'none';
  /** The configs `apply` sets (alter). */
  set: Record<string, string>;
  /** Differences `apply` does not touch, and why. */
  cannot: string[];
};

export async function describeTopics(admin: Admin, names: readonly string[]): Promise<Map<string, TopicState>> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  const states = new Map<string, TopicState>();
  if (present.length === 0) return states;
  const [{ topics }, described] = await Promise.all([
    admin.fetchTopicMetadata({ topics: present }),
    admin.describeConfigs({ includeSynonyms: false, resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) }),
  ]);
  for (const topic of topics) {
    const resource = described.resources.find((r) => r.resourceName === topic.name);
    const configs: Record<string, string> = {};
    const overrides: Record<string, string> = {};
    for (const entry of resource?.configEntries ?? []) {
      configs[entry.configName] = entry.configValue;
      // configSource 1: TOPIC_CONFIG, set on this topic.
      if (!entry.isDefault && (entry as { configSource?: number }).configSource === 1) overrides[entry.configName] = entry.configValue;
    }
    states.set(topic.name, { name: topic.name, partitions: topic.partitions.length, replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)), configs, overrides });
  }
  return states;
}

/** The changes that bring the cluster's topics to `specs` (only what can be changed safely on a live topic). */
export function planTopics(specs: readonly TopicSpec[], states: Map<string, TopicState>): TopicChange[] {
  return specs.map((spec) => {
    const state = states.get(spec.name);
    if (!state) return { spec, action: 'create', set: {}, cannot: [] };
    const cannot: string[] = [];
    if (state.partitions !== spec.partitions) {
      cannot.push(
        state.partitions < spec.partitions
          ? `has ${state.partitions} partitions, configured ${spec.partitions}: not added to a live topic (keys would move and one appointment's events could be read out of order); migrate to a new topic instead (infra/kafka/README.md)`
          : `has ${state.partitions} partitions, configured ${spec.partitions}: Kafka cannot remove partitions`,
      );
    }
    if (spec.replicationFactor !== undefined && state.replicationFactor !== spec.replicationFactor) {
      cannot.push(`has replication factor ${state.replicationFactor}, configured ${spec.replicationFactor}: change it with a partition reassignment (kafka-reassign-partitions)`);
    }
    const set: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.configs)) if (state.configs[name] !== value) set[name] = value;
    return { spec, state, action: Object.keys(set).length ? 'alter' : 'none', set, cannot };
  });
}

/** Applies a plan: creates the missing topics, sets the changed configs (keeping the topic's other overrides). */
export async function applyTopicPlan(admin: Admin, changes: readonly TopicChange[]): Promise<void> {
  const creates = changes.filter((c) => c.action === 'create').map((c) => c.spec);
  if (creates.length) await ensureTopics(admin, creates);
  const alters = changes.filter((c) => c.action === 'alter');
  if (alters.length) {
    await admin.alterConfigs({
      validateOnly: false,
      // AlterConfigs replaces a topic's whole set of overrides: the ones already there go along.
      resources: alters.map((c) => ({
        type: ConfigResourceTypes.TOPIC,
        name: c.spec.name,
        configEntries: Object.entries({ ...c.state?.overrides, ...c.spec.configs }).map(([name, value]) => ({ name, value })),
      })),
    });
  }
}
