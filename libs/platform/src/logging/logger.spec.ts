import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger, prettyDestination, prettyLogsWanted } from './logger';

describe('development logs', () => {
  it('are pretty only on a terminal outside production', () => {
    expect(prettyLogsWanted({ isTTY: true }, { NODE_ENV: 'development' })).toBe(true);
    expect(prettyLogsWanted({ isTTY: true }, {})).toBe(true);
    expect(prettyLogsWanted({ isTTY: false }, { NODE_ENV: 'development' })).toBe(false);
    expect(prettyLogsWanted({}, { NODE_ENV: 'development' })).toBe(false);
    expect(prettyLogsWanted({ isTTY: true }, { NODE_ENV: 'production' })).toBe(false);
  });

  it('read as one line per entry with the service and message first, still redacted', () => {
    let text = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    const logger = createLogger('scheduling', 'info', prettyDestination(out));
    logger.info({ client: { email: 'kenji@example.jp' } }, 'booking accepted');
    const [first] = text.split('\n');
    expect(first).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: scheduling: booking accepted$/);
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('kenji@example.jp');
  });

  it('are JSON otherwise', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger('payment', 'info', out as unknown as pino.DestinationStream).info('charged');
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', service: 'payment', msg: 'charged' });
  });
});
