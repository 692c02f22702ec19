import { logLevel } from 'kafkajs';
import { kafkajsLogLevel } from './kafka';

describe('kafkajsLogLevel', () => {
  it('logs the failures ensureTopics expects and retries at debug', () => {
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response CreateTopics(key: 19, version: 3)', 'Topic creation errors')).toBe('debug');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', 'This server does not host this topic-partition')).toBe('debug');
  });

  it('keeps every other failure at its own level', () => {
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', 'Topic creation errors')).toBe('error');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'This server does not host this topic-partition')).toBe('error');
    expect(kafkajsLogLevel(logLevel.ERROR, 'Connection error', undefined)).toBe('error');
    expect(kafkajsLogLevel(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', undefined)).toBe('warn');
    expect(kafkajsLogLevel(logLevel.INFO, undefined, undefined)).toBe('info');
  });
});
