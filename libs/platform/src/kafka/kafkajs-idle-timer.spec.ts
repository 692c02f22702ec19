import { fixKafkajsIdleTimer } from './kafkajs-idle-timer';

type Queue = {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
};

// kafkajs' own request queue, as every broker connection has one.
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: Record<string, unknown>) => Queue;
const logger = { debug: () => undefined, warn: () => undefined, info: () => undefined, error: () => undefined };
const queue = () => new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger });

/** Runs `check` on a fresh queue and always clears its timers, so a regression fails instead of hanging. */
function withQueue(check: (q: Queue) => void): void {
  const q = queue();
  try {
    check(q);
  } finally {
    q.pending.length = 0;
    q.throttledUntil = -1;
    q.destroy();
  }
}

describe('the kafkajs idle-timer fix (tulios/kafkajs#1556)', () => {
  beforeAll(() => fixKafkajsIdleTimer());

  it('arms no timer when nothing is queued and nothing is throttled', () => {
    withQueue((q) => {
      q.checkPendingRequests(); // what every response does
      expect(q.throttleCheckTimeoutId).toBeNull();
    });
  });

  it('still arms one for queued requests and for a throttle to wait out', () => {
    withQueue((q) => {
      q.pending.push({});
      q.scheduleCheckPendingRequests();
      expect(q.throttleCheckTimeoutId).not.toBeNull();
    });
    withQueue((q) => {
      q.throttledUntil = Date.now() + 60_000;
      q.scheduleCheckPendingRequests();
      expect(q.throttleCheckTimeoutId).not.toBeNull();
    });
  });
});
