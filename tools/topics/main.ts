import { ALL_TOPICS } from '@booking/contracts';
import {
  applyTopicPlan,
  baseConfigShape,
  createKafka,
  createLogger,
  describeTopics,
  explainKafkaError,
  kafkaConfigShape,
  kafkaSecurity,
  loadConfig,
  namespaced,
  planTopics,
  TopicChange,
  topicSpecs,
} from '@booking/platform';

/**
 * `npm run topics -- plan|apply`: the platform's topics (every event topic and its dead-letter topic)
 * as the KAFKA_TOPIC_* variables configure them, beside what the cluster has. `plan` only reads;
 * `apply` creates the missing topics and sets the configs that differ (min.insync.replicas,
 * retention.ms). Partition counts and replication factors of existing topics are reported, never
 * changed (see infra/kafka/README.md, "Partitions").
 */
const USAGE = `usage:
  npm run topics -- plan     what the configuration wants beside what the cluster has (changes nothing)
  npm run topics -- apply    create the missing topics, set the configs that differ
KAFKA_BROKERS, KAFKA_NAMESPACE, KAFKA_TLS*, KAFKA_SASL_* and KAFKA_TOPIC_* as for the services`;

const shown = (value: number | string | undefined) => (value === undefined ? 'broker default' : String(value));

function describe(change: TopicChange): string[] {
  const { spec, state } = change;
  const wanted = [
    `partitions=${spec.partitions}`,
    `replication.factor=${shown(spec.replicationFactor)}`,
    `min.insync.replicas=${shown(spec.configs['min.insync.replicas'])}`,
    `retention.ms=${shown(spec.configs['retention.ms'])}`,
  ].join(' ');
  const lines: string[] = [];
  if (change.action === 'create') lines.push(`create  ${spec.name}  (${spec.family ?? '-'})  ${wanted}`);
  else if (change.action === 'alter') {
    lines.push(`alter   ${spec.name}  (${spec.family ?? '-'})  ${Object.entries(change.set).map(([name, value]) => `${name} ${state?.configs[name] ?? '?'} -> ${value}`).join(', ')}`);
  } else lines.push(`ok      ${spec.name}  (${spec.family ?? '-'})  ${wanted}`);
  for (const reason of change.cannot) lines.push(`  ! not changed: ${spec.name} ${reason}`);
  return lines;
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (command !== 'plan' && command !== 'apply') {
    console.error(`${command ? `unknown command ${command}` : 'no command'}\n${USAGE}`);
    process.exit(2);
  }
  const config = loadConfig('topics', { NODE_ENV: baseConfigShape.NODE_ENV, KAFKA_BROKERS: baseConfigShape.KAFKA_BROKERS, KAFKA_NAMESPACE: baseConfigShape.KAFKA_NAMESPACE, ...kafkaConfigShape });
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS.split(','),
    clientId: namespaced(config.KAFKA_NAMESPACE, 'topics-tool'),
    namespace: config.KAFKA_NAMESPACE,
    logger: createLogger('topics', 'warn'),
    security: kafkaSecurity('topics', config),
  });
  const admin = kafka.admin();
  await admin.connect().catch((error) => explainKafkaError(error, config));
  try {
    const specs = topicSpecs(config, ALL_TOPICS);
    const changes = planTopics(specs, await describeTopics(admin, specs.map((s) => s.name)));
    console.log(`topics of ${config.KAFKA_BROKERS}${config.KAFKA_NAMESPACE ? ` (namespace ${config.KAFKA_NAMESPACE})` : ''}:`);
    for (const change of changes) for (const line of describe(change)) console.log(line);
    const count = (action: TopicChange['action']) => changes.filter((c) => c.action === action).length;
    const cannot = changes.reduce((n, c) => n + c.cannot.length, 0);
    const summary = `${count('create')} to create, ${count('alter')} to alter, ${count('none')} unchanged${cannot ? `, ${cannot} difference(s) left as they are (!)` : ''}`;
    if (command === 'plan') {
      console.log(`plan: ${summary}${count('create') + count('alter') ? '; `npm run topics -- apply` makes the changes' : ''}`);
      return;
    }
    await applyTopicPlan(admin, changes);
    console.log(`applied: ${summary}`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
