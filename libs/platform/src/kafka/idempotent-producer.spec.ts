import { Writable } from 'node:stream';
import { Partitioners } from 'kafkajs';
import pino from 'pino';
import { createKafka, IDEMPOTENT_PRODUCER } from './kafka';

/** What kafkajs logs while a producer is made with the platform's client settings. */
function warningsOf(options: Parameters<ReturnType<typeof createKafka>['producer']>[0]): string[] {
  const messages: string[] = [];
  const out = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'test', namespace: '', logger: pino({ level: 'info' }, out) });
  kafka.producer(options);
  return messages;
}

describe('the idempotent producer', () => {
  it('is configured as its guarantees require: one request in flight, retries without a limit, so kafkajs has nothing to warn about', () => {
    expect(IDEMPOTENT_PRODUCER).toMatchObject({ idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER } });
    // As Platform makes its producer.
    expect(warningsOf({ ...IDEMPOTENT_PRODUCER, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })).toEqual([]);
  });

  it('would be warned about with the client\'s limited retries (what every start printed before)', () => {
    expect(warningsOf({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })).toContain('Limiting retries for the idempotent producer may invalidate EoS guarantees');
  });
});
