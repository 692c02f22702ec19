import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { ALL_TOPICS, dlqTopic, TOPICS } from '@booking/contracts';
import { TestEnvironment } from '@booking/platform/testing';
import { runUntilExit, startService } from '../support/platform';

/**
 * Topics as infrastructure, on the real broker: `npm run topics -- plan|apply` (the built tool) shows
 * and makes the topics the KAFKA_TOPIC_* variables configure, per family; a live topic's partitions
 * are never added to; and a service with KAFKA_CREATE_TOPICS=false creates nothing, fails its start
 * naming the missing topics, and starts once they exist.
 */
describe('Kafka topics as infrastructure', () => {
  const env = new TestEnvironment();
  const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: `${env.id}-topics`, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const ns = (topic: string) => `${env.namespace}.${topic}`;
  const families = {
    KAFKA_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '1',
    KAFKA_TOPIC_PAYMENT_PARTITIONS: '4',
    KAFKA_TOPIC_DLQ_RETENTION_HOURS: '48',
  };
  const topicsTool = (command: string, extra: Record<string, string> = {}) => runUntilExit('tools/topics/main.js', env, { ...families, ...extra }, [command]);

  async function configOf(topic: string): Promise<Record<string, string>> {
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: ns(topic) }] });
    return Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  }
  const partitionsOf = async (topic: string) => (await admin.fetchTopicMetadata({ topics: [ns(topic)] })).topics[0].partitions.length;
  const ours = async () => (await admin.listTopics()).filter((t) => t.startsWith(`${env.namespace}.`)).sort();

  beforeAll(() => admin.connect());

  afterAll(async () => {
    const topics = await ours();
    if (topics.length) await admin.deleteTopics({ topics });
    await admin.disconnect();
    await env.destroy();
  });

  it('plan shows every topic and its dead-letter topic with their family settings and changes nothing; apply makes them', async () => {
    const plan = await topicsTool('plan');
    expect(plan.code).toBe(0);
    const every = ALL_TOPICS.flatMap((t) => [t, dlqTopic(t)]);
    for (const topic of every) expect(plan.output).toMatch(new RegExp(`^create  ${ns(topic).replace(/\./g, '\\.')}  `, 'm'));
    expect(plan.output).toContain(`create  ${ns(TOPICS.payment)}  (payment)  partitions=4 replication.factor=1 min.insync.replicas=1 retention.ms=broker default`);
    expect(plan.output).toContain(`create  ${ns(dlqTopic(TOPICS.payment))}  (dlq)  partitions=1 replication.factor=1 min.insync.replicas=1 retention.ms=172800000`);
    expect(plan.output).toContain('plan: 10 to create, 0 to alter, 0 unchanged; `npm run topics -- apply` makes the changes');
    expect(await ours()).toEqual([]);

    const apply = await topicsTool('apply');
    expect(apply.output).toContain('applied: 10 to create, 0 to alter, 0 unchanged');
    expect(apply.code).toBe(0);
    expect(await ours()).toEqual(every.map(ns).sort());
    expect(await partitionsOf(TOPICS.payment)).toBe(4);
    expect(await partitionsOf(TOPICS.appointment)).toBe(3);
    expect(await partitionsOf(dlqTopic(TOPICS.appointment))).toBe(1);
    expect(await configOf(dlqTopic(TOPICS.reminder))).toMatchObject({ 'retention.ms': '172800000', 'min.insync.replicas': '1' });

    expect((await topicsTool('plan')).output).toContain('plan: 0 to create, 0 to alter, 10 unchanged');
  });

  it('alters changed configs and keeps an operator\'s own overrides, but never adds partitions to a live topic', async () => {
    // An operator's own setting on a topic, which a plan does not manage.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: ns(TOPICS.notification), configEntries: [{ name: 'max.message.bytes', value: '500000' }] }] });
    const changed = { KAFKA_TOPIC_RETENTION_HOURS: '72', KAFKA_TOPIC_PAYMENT_PARTITIONS: '8' };
    const plan = await topicsTool('plan', changed);
    expect(plan.output).toMatch(new RegExp(`^alter   ${ns(TOPICS.notification).replace(/\./g, '\\.')}  \\(notification\\)  retention\\.ms \\d+ -> 259200000$`, 'm'));
    expect(plan.output).toContain(`! not changed: ${ns(TOPICS.payment)} has 4 partitions, configured 8: not added to a live topic (keys would move`);
    expect(plan.output).toContain('plan: 0 to create, 5 to alter, 5 unchanged, 1 difference(s) left as they are (!)');

    const apply = await topicsTool('apply', changed);
    expect(apply.code).toBe(0);
    expect(await configOf(TOPICS.notification)).toMatchObject({ 'retention.ms': '259200000', 'max.message.bytes': '500000', 'min.insync.replicas': '1' });
    expect(await configOf(dlqTopic(TOPICS.notification))).toMatchObject({ 'retention.ms': '172800000' });
    expect(await partitionsOf(TOPICS.payment)).toBe(4);
  });

  it('a service with KAFKA_CREATE_TOPICS=false fails its start naming the missing topics, and starts once they exist', async () => {
    const other = new TestEnvironment();
    try {
      const refused = await runUntilExit('payment', other, { KAFKA_CREATE_TOPICS: 'false' });
      expect(refused.code).toBe(1);
      const missing = [TOPICS.appointment, dlqTopic(TOPICS.appointment), TOPICS.payment, dlqTopic(TOPICS.payment)].map((t) => `${other.namespace}.${t}`);
      expect(refused.output).toContain(`Kafka topics missing (KAFKA_CREATE_TOPICS=false, so the service creates none): ${missing.join(', ')}`);
      expect(refused.output).toContain('npm run topics -- apply');
      expect((await admin.listTopics()).filter((t) => t.startsWith(`${other.namespace}.`))).toEqual([]);

      const apply = await runUntilExit('tools/topics/main.js', other, {}, ['apply']);
      expect(apply.code).toBe(0);
      const payment = await startService('payment', other, { KAFKA_CREATE_TOPICS: 'false' });
      await payment.stop();
    } finally {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${other.namespace}.`));
      if (topics.length) await admin.deleteTopics({ topics });
      await other.destroy();
    }
  }, 180_000);
});
