import { ALL_TOPICS } from '@booking/contracts';
import { baseConfigShape, createKafka, createLogger, DeadLetter, DeadLetters, kafkaConfigShape, kafkaSecurity, loadConfig, namespaced } from '@booking/platform';

/**
 * `npm run dlq -- list|show|replay`: what consumers dead-lettered, and putting it back on its topic
 * once a fix (a consumer that reads it, an upcaster, the missing data) is deployed. Replays are
 * idempotent: every consumer's inbox drops an event id it has handled.
 */
const USAGE = `usage:
  npm run dlq -- list [--topic <topic>]                     every dead letter (of one topic)
  npm run dlq -- show <eventId> [--topic <topic>]           its headers and body
  npm run dlq -- replay (--event <eventId> | --topic <topic>) [--dry-run]
                                                            publish to the original topic again
topics: ${ALL_TOPICS.join(', ')}; KAFKA_BROKERS, KAFKA_NAMESPACE, KAFKA_TLS* and KAFKA_SASL_* as for the services`;

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const line = (l: DeadLetter) =>
  [l.topic, `${l.partition}/${l.offset}`, l.eventId ?? '-', l.type ?? '-', l.group || '-', l.reason].join('\t');

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const topic = option(args, '--topic');
  if (topic !== undefined && !(ALL_TOPICS as readonly string[]).includes(topic)) fail(`unknown topic ${topic}`);
  const topics = topic ? [topic] : ALL_TOPICS;
  const config = loadConfig('dlq', { NODE_ENV: baseConfigShape.NODE_ENV, KAFKA_BROKERS: baseConfigShape.KAFKA_BROKERS, KAFKA_NAMESPACE: baseConfigShape.KAFKA_NAMESPACE, ...kafkaConfigShape });
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS.split(','),
    clientId: namespaced(config.KAFKA_NAMESPACE, 'dlq-tool'),
    namespace: config.KAFKA_NAMESPACE,
    logger: createLogger('dlq', 'warn'),
    security: kafkaSecurity('dlq', config),
  });
  const deadLetters = new DeadLetters(kafka, (name) => namespaced(config.KAFKA_NAMESPACE, name));
  switch (command) {
    case 'list': {
      const letters = await deadLetters.list(topics);
      console.log(['dead-letter topic', 'partition/offset', 'event id', 'type', 'group', 'reason'].join('\t'));
      for (const letter of letters) console.log(line(letter));
      console.log(`${letters.length} dead letter(s)`);
      return;
    }
    case 'show': {
      const eventId = args.find((a) => !a.startsWith('--') && a !== topic) ?? fail('show needs an event id');
      const letters = (await deadLetters.list(topics)).filter((l) => l.eventId === eventId);
      if (letters.length === 0) fail(`no dead letter with event id ${eventId}`);
      for (const letter of letters) {
        const body = letter.value?.toString('utf8') ?? '';
        let pretty = body;
        try {
          pretty = JSON.stringify(JSON.parse(body), null, 2);
        } catch {
          // Not JSON: shown as it is, which is likely why it was dead-lettered.
        }
        console.log(`${line(letter)}\nkey: ${letter.key?.toString('utf8') ?? '(null)'}\nheaders: ${JSON.stringify(letter.headers, null, 2)}\nbody:\n${pretty}\n`);
      }
      return;
    }
    case 'replay': {
      const eventId = option(args, '--event');
      if (!eventId && !topic) fail('replay needs --event <eventId> or --topic <topic>');
      const letters = (await deadLetters.list(topics)).filter((l) => !eventId || l.eventId === eventId);
      if (letters.length === 0) fail(eventId ? `no dead letter with event id ${eventId}` : `no dead letters on ${topic}`);
      const dryRun = args.includes('--dry-run');
      await deadLetters.replay(letters, { dryRun });
      for (const letter of letters) console.log(`${dryRun ? 'would replay' : 'replayed'} ${letter.eventId ?? `${letter.topic}/${letter.partition}/${letter.offset}`} (${letter.type ?? '?'}) to ${letter.originalTopic}`);
      return;
    }
    default:
      fail(command ? `unknown command ${command}` : 'no command');
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
