import { logLevel } from 'kafkajs';
import { kafkajsLogLevel } from './kafka';

describe('kafkajsLogLevel', () => {
  it('logs the failures ensureTopics expects and retries at debug', () => {
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response CreateTopics(key: 19, version: 3)', 'Topic creation errors')).toBe('debug');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', 'This server does not host this topic-partition')).toBe('debug');
  });

  it('logs a just-started broker\'s coordinator answers, which kafkajs retries, at debug', () => {
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response InitProducerId(key: 22, version: 1)', "The coordinator is loading and hence can't process requests for this group")).toBe('debug');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response FindCoordinator(key: 10, version: 2)', 'The coordinator is not available')).toBe('debug');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available')).toBe('debug');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded', 'The coordinator is not available')).toBe('error');
  });

  it('keeps every other failure at its own level', () => {
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', 'Topic creation errors')).toBe('error');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'This server does not host this topic-partition')).toBe('error');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Connection error', undefined)).toBe('error');
    expect(kafkajsLogLevel(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', undefined)).toBe('warn');
    expect(kafkajsLogLevel(logLevel.INFO, undefined, undefined)).toBe('info');
  });
});
