import { CallerRateLimiter } from './caller-rate-limiter';
import { RedisConnection } from './redis.connection';

/**
 * A stand-in for Redis running the reservation script, with a clock the test moves: for what needs the
 * clock or Redis' failures. The limit shared across instances is proven on the real Redis
 * (caller-rate-limiter.int.spec.ts).
 */
class FakeRedis {
  status = 'ready';
  calls = 0;
  now = 1_000_000;
  readonly counters = new Map<string, { count: number; expiresAt: number }>();

  defineCommand(name: string): void {
    (this as unknown as Record<string, unknown>)[name] = async (key: string, points: string, seconds: string) => {
      this.calls++;
      await Promise.resolve();
      if (this.status !== 'ready') throw new Error('Connection is closed.');
      let counter = this.counters.get(key);
      if (!counter || counter.expiresAt <= this.now) {
        counter = { count: 0, expiresAt: this.now + Number(seconds) * 1000 };
        this.counters.set(key, counter);
      }
      counter.count += Number(points);
      return [counter.count, counter.expiresAt - this.now];
    };
  }
}

function limiters(count: number, limit: number, { fakeClock = true } = {}) {
  const redis = new FakeRedis();
  // rate-limiter-flexible's memory store keeps real time, so the in-memory tests keep it too.
  if (fakeClock) jest.spyOn(Date, 'now').mockImplementation(() => redis.now);
  else redis.now = Date.now();
  const connection = { client: redis } as unknown as RedisConnection;
  return { redis, instances: Array.from({ length: count }, () => new CallerRateLimiter(connection, limit, 'rl')) };
}

describe('CallerRateLimiter', () => {
  afterEach(() => jest.restoreAllMocks());

  it('counts exactly on one instance: remaining goes down by one, then 429 until the window ends', async () => {
    const { redis, instances: [limiter] } = limiters(1, 5);
    const verdicts = [];
    for (let i = 0; i < 7; i++) verdicts.push(await limiter.consume('sub:a'));
    expect(verdicts.map((v) => [v.allowed, v.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
    ]);
    expect(verdicts[0]).toMatchObject({ limit: 5, resetSeconds: 60 });
    const callsWhenRefused = redis.calls;
    await limiter.consume('sub:a');
    expect(redis.calls).toBe(callsWhenRefused); // refused from memory until the window ends
    redis.now += 60_000;
    expect(await limiter.consume('sub:a')).toMatchObject({ allowed: true, remaining: 4 });
    expect(await limiter.consume('sub:b')).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('starts over when Redis opened the next window while the old one had milliseconds left here', async () => {
    const { redis, instances: [limiter] } = limiters(1, 10);
    for (let i = 0; i < 9; i++) await limiter.consume('sub:edge');
    // Redis' key expires 5 ms before this instance's window does (its TTL was read a round trip late).
    const counter = redis.counters.get('rl:sub:edge')!;
    counter.expiresAt -= 5;
    redis.now = counter.expiresAt + 1;
    const first = await limiter.consume('sub:edge');
    expect(first).toMatchObject({ allowed: true, remaining: 9, resetSeconds: 60 });
    expect(redis.counters.get('rl:sub:edge')!.count).toBe(1);
    expect(await limiter.consume('sub:edge')).toMatchObject({ allowed: true, remaining: 8 });
  });

  it('lets concurrent requests of one caller share one reservation in flight', async () => {
    const { redis, instances: [limiter] } = limiters(1, 1_000_000);
    await limiter.consume('sub:c');
    redis.calls = 0;
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('sub:c')));
    expect(verdicts.every((v) => v.allowed)).toBe(true);
    expect(redis.calls).toBe(1);
    expect(new Set(verdicts.map((v) => v.remaining)).size).toBe(50);
  });

  it('counts in memory per instance while Redis is away, and goes back to Redis when it returns', async () => {
    const { redis, instances: [limiter] } = limiters(1, 2, { fakeClock: false });
    redis.status = 'reconnecting';
    const offline = [await limiter.consume('x'), await limiter.consume('x'), await limiter.consume('x')];
    expect(offline.map((v) => v.allowed)).toEqual([true, true, false]);
    expect(redis.calls).toBe(0);
    redis.status = 'ready';
    expect(await limiter.consume('y')).toMatchObject({ allowed: true, remaining: 1 });
    expect(redis.calls).toBe(1);
  });

  it('falls back to memory for a request whose Redis call fails', async () => {
    const { redis, instances: [limiter] } = limiters(1, 2, { fakeClock: false });
    const client = redis as unknown as { gatewayRateLimitReserve: () => Promise<never> };
    client.gatewayRateLimitReserve = () => Promise.reject(new Error('Connection is closed.'));
    expect(await limiter.consume('z')).toMatchObject({ allowed: true, remaining: 1 });
  });
});
