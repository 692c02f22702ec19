import { ConfigError } from '@booking/platform';
import { loadReminderConfig } from './config';

describe('reminder configuration', () => {
  it('defaults to 24 h and 1 h reminders, a 500 ms poll, batches of 100 and one worker', () => {
    const config = loadReminderConfig({});
    expect(config.REMINDER_OFFSETS_MINUTES).toEqual([1440, 60]);
    expect(config.REMINDER_POLL_INTERVAL_MS).toBe(500);
    expect(config.REMINDER_BATCH_SIZE).toBe(100);
    expect(config.REMINDER_WORKERS).toBe(1);
    expect(config.REMINDER_MISSED_GRACE_SECONDS).toBe(300);
  });

  it('reads offsets as a de-duplicated list, largest first', () => {
    expect(loadReminderConfig({ REMINDER_OFFSETS_MINUTES: '60, 1440,15,60' }).REMINDER_OFFSETS_MINUTES).toEqual([1440, 60, 15]);
  });

  it('treats an empty REMINDER_OFFSETS_MINUTES as unset', () => {
    expect(loadReminderConfig({ REMINDER_OFFSETS_MINUTES: '' }).REMINDER_OFFSETS_MINUTES).toEqual([1440, 60]);
  });

  it.each(['abc', '60,,15', '-5', '0', '60000'])('rejects REMINDER_OFFSETS_MINUTES=%j', (value) => {
    expect(() => loadReminderConfig({ REMINDER_OFFSETS_MINUTES: value })).toThrow(ConfigError);
  });

  it('allows a process without workers and names each bad worker setting', () => {
    expect(loadReminderConfig({ REMINDER_WORKERS: '0' }).REMINDER_WORKERS).toBe(0);
    let caught: unknown;
    try {
      loadReminderConfig({ REMINDER_WORKERS: '-1', REMINDER_BATCH_SIZE: '0', REMINDER_POLL_INTERVAL_MS: '1' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(3);
    for (const name of ['REMINDER_WORKERS="-1"', 'REMINDER_BATCH_SIZE="0"', 'REMINDER_POLL_INTERVAL_MS="1"']) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });
});
