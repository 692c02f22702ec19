import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '@booking/contracts';
import { baseConfigShape, ensureTopics, loadConfig, topicSpecs } from '@booking/platform';
import { eventually } from '@booking/platform/testing';

const ROOT = path.join(__dirname, '..');

/**
 * `npm run kafka -- cluster start`: three KRaft brokers on this machine. The platform's topics get
 * replication factor 3 and min.insync.replicas 2 through the per-family settings the cluster prints;
 * a broker killed with -9 costs no acknowledged write, and writes with acks=all go on with two.
 * Lean on purpose: one topic family, a few messages.
 */
describe('a local cluster of three brokers', () => {
  const port = Number(process.env.KAFKA_CLUSTER_TEST_PORT ?? 19650);
  const scriptEnv = {
    ...process.env,
    KAFKA_BROKERS: '',
    KAFKA_CLUSTER_PORT: String(port),
    KAFKA_CLUSTER_CONTROLLER_PORT: String(port + 3),
    KAFKA_CLUSTER_DATA_DIR: path.join(ROOT, 'tmp', `kafka-cluster-${process.pid}`),
  };
  const cluster = (command: string) => execFileSync('bash', [path.join(ROOT, 'infra', 'kafka', 'kafka.sh'), 'cluster', command], { env: scriptEnv, stdio: 'pipe' }).toString();
  const namespace = `cluster${Date.now().toString(36)}`;
  let kafka: Kafka;
  let clientEnv: Record<string, string>;

  beforeAll(() => {
    cluster('start');
    clientEnv = Object.fromEntries(
      cluster('client-env')
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    );
    kafka = new Kafka({ brokers: clientEnv.KAFKA_BROKERS.split(','), clientId: namespace, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  }, 300_000);

  afterAll(() => {
    cluster('reset');
  }, 120_000);

  it('runs three brokers; the platform topics get replication factor 3 and min.insync.replicas 2; a broker killed with -9 loses no acknowledged write', async () => {
    expect(cluster('status').match(/running \(pid \d+\)/g)).toHaveLength(3);
    expect(clientEnv).toEqual({
      KAFKA_BROKERS: `127.0.0.1:${port},127.0.0.1:${port + 1},127.0.0.1:${port + 2}`,
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      expect((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);

      // The services' own topic creation, with the cluster's settings.
      const config = loadConfig('test', baseConfigShape, { ...clientEnv, KAFKA_NAMESPACE: namespace });
      await ensureTopics(admin, topicSpecs(config, [TOPICS.appointment]));
      const topic = `${namespace}.${TOPICS.appointment}`;
      const metadata = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
      for (const partition of await metadata()) expect(partition.replicas).toHaveLength(3);
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
      expect(resources[0].configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');

      const send = (from: number) =>
        producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `appointment-${(from + i) % 4}`, value: String(from + i) })) });
      await send(0);

      // The broker leading partition 0 dies without a word.
      const victim = (await metadata()).find((p) => p.partitionId === 0)!.leader;
      const pid = Number(cluster('pids').split('\n').find((line) => line.startsWith(`${victim} `))!.split(' ')[1]);
      process.kill(pid, 'SIGKILL');
      await eventually(async () => (await metadata()).every((p) => p.leader !== victim && p.leader >= 0), 60_000, `new leaders for the partitions broker ${victim} led`);

      // Two replicas in sync are enough for acks=all.
      await send(10);
      for (const partition of await metadata()) expect(partition.isr.length).toBeGreaterThanOrEqual(2);

      const received: number[] = [];
      const consumer = kafka.consumer({ groupId: `${namespace}-reader`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void received.push(Number(String(message.value))) });
        await eventually(async () => received.length >= 20, 60_000, 'the 20 messages');
      } finally {
        await consumer.disconnect();
      }
      expect(received.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    }
  }, 240_000);
});
