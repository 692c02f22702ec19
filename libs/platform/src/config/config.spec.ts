import { z } from 'zod';
import { baseConfigShape, ConfigError, loadConfig, portVariable } from './config';

describe('loadConfig', () => {
  const shape = { ...baseConfigShape, PORT: portVariable(3001), SECRET: z.string().min(8) };

  it('applies defaults and coerces numbers', () => {
    const config = loadConfig('test', shape, { SECRET: 'long-enough', PORT: '4000' });
    expect(config.PORT).toBe(4000);
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/booking');
    expect(config.KAFKA_BROKERS).toBe('127.0.0.1:19092');
  });

  it('names every bad or missing variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig('scheduling', shape, { PORT: 'abc', KAFKA_BROKERS: 'nope', DATABASE_URL: 'mysql://x/y' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toContain('scheduling: invalid configuration');
    expect(message).toContain('PORT="abc" is invalid');
    expect(message).toContain('KAFKA_BROKERS="nope" is invalid');
    expect(message).toContain('DATABASE_URL="mysql://x/y" is invalid: must be a postgres:// URL');
    expect(message).toContain('SECRET is missing');
    expect((caught as ConfigError).problems).toHaveLength(4);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig('test', shape, { SECRET: 'long-enough', PORT: '' });
    expect(config.PORT).toBe(3001);
  });
});
