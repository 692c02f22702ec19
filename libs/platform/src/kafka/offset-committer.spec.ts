import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import { OffsetCommitter } from './event-consumer';

type Commit = { topic: string; partition: number; offset: string }[];

function committer(intervalMs: number) {
  const commits: Commit[] = [];
  let release: (() => void) | undefined;
  const consumer = {
    commitOffsets: async (offsets: Commit) => {
      commits.push(offsets);
      await new Promise<void>((resolve) => (release = resolve));
    },
  } as unknown as Consumer;
  const logger = { warn: jest.fn() } as unknown as Logger;
  return { commits, committer: new OffsetCommitter(consumer, logger, intervalMs), answer: () => release?.() };
}

describe('OffsetCommitter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('commits a quiet consumer’s offer at once, then merges offers into at most one commit per interval', async () => {
    const { commits, committer: c, answer } = committer(100);
    c.offer('t', 0, '5');
    expect(commits).toEqual([[{ topic: 't', partition: 0, offset: '5' }]]);
    // While that commit is in flight and within the interval, offers only merge (highest per partition).
    c.offer('t', 0, '7');
    c.offer('t', 1, '3');
    c.offer('t', 0, '6');
    answer();
    await jest.advanceTimersByTimeAsync(50);
    expect(commits).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(60);
    expect(commits).toHaveLength(2);
    expect(commits[1]).toEqual([
      { topic: 't', partition: 0, offset: '7' },
      { topic: 't', partition: 1, offset: '3' },
    ]);
    answer();
    await jest.advanceTimersByTimeAsync(0);
    // Quiet for longer than the interval: the next offer goes out at once again.
    await jest.advanceTimersByTimeAsync(500);
    c.offer('t', 0, '9');
    expect(commits).toHaveLength(3);
    answer();
  });

  it('flush commits what is pending without waiting out the interval', async () => {
    const { commits, committer: c, answer } = committer(10_000);
    c.offer('t', 0, '1');
    c.offer('t', 0, '2');
    answer();
    const flushed = c.flush();
    await jest.advanceTimersByTimeAsync(0);
    expect(commits).toHaveLength(2);
    expect(commits[1]).toEqual([{ topic: 't', partition: 0, offset: '2' }]);
    answer();
    await flushed;
  });
});
