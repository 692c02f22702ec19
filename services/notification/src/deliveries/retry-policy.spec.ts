import { backoffMs, consumerRetryPolicy } from './retry-policy';

describe('consumerRetryPolicy', () => {
  it('doubles the backoff up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 500, 5000))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('gives every delivery its attempts, plus enough retries to outwait one lease', () => {
    const policy = consumerRetryPolicy({ maxAttempts: 5, leaseMs: 30000, initialBackoffMs: 500, maxBackoffMs: 5000 });
    // 0.5 + 1 + 2 + 4 + 5 × 5 = 32.5 s ≥ 30 s takes 9 retries.
    expect(policy).toEqual({ maxAttempts: 14, initialBackoffMs: 500, maxBackoffMs: 5000 });
    let waited = 0;
    for (let retry = 1; retry <= policy.maxAttempts - 5; retry++) waited += backoffMs(retry, 500, 5000);
    expect(waited).toBeGreaterThanOrEqual(30000);
  });
});
