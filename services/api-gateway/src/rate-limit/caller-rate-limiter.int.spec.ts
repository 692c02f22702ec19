import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { CallerRateLimiter } from './caller-rate-limiter';
import { RedisConnection } from './redis.connection';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The limit shared by gateway instances, against the real Redis: each instance its own connection and
 * limiter, as separate processes would have, on keys under a prefix of the test's own.
 */
describe('CallerRateLimiter across instances (real Redis)', () => {
  const connections: RedisConnection[] = [];

  afterAll(async () => {
    for (const connection of connections) connection.client.disconnect();
  });

  async function instances(count: number, limit: number) {
    const prefix = `rl-test:${randomUUID()}`;
    const made: { limiter: CallerRateLimiter; counted: { calls: number } }[] = [];
    for (let i = 0; i < count; i++) {
      const connection = new RedisConnection(REDIS_URL, pino({ level: 'silent' }));
      connections.push(connection);
      await connection.connect();
      expect(connection.client.status).toBe('ready');
      const limiter = new CallerRateLimiter(connection, limit, prefix);
      // Every round trip the limiter makes to Redis goes through its one scripted command.
      const client = connection.client as unknown as { gatewayRateLimitReserve: (...args: string[]) => Promise<unknown> };
      const reserve = client.gatewayRateLimitReserve.bind(client);
      const counted = { calls: 0 };
      client.gatewayRateLimitReserve = (...args: string[]) => {
        counted.calls++;
        return reserve(...args);
      };
      made.push({ limiter, counted });
    }
    const redisCount = async (key: string) => Number(await connections[connections.length - 1].client.get(`${prefix}:${key}`));
    return { limiters: made.map((m) => m.limiter), calls: () => made.reduce((n, m) => n + m.counted.calls, 0), redisCount };
  }

  it('shares a small limit across instances exactly', async () => {
    const { limiters: [a, b], redisCount } = await instances(2, 3);
    const verdicts = [await a.consume('k'), await b.consume('k'), await a.consume('k'), await b.consume('k')];
    expect(verdicts.map((v) => [v.allowed, v.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(await redisCount('k')).toBe(4);
  });

  it('never admits more than the limit across instances, refuses at most a reservation early per instance, and asks Redis rarely', async () => {
    const limit = 2000;
    const { limiters, calls, redisCount } = await instances(3, limit);
    let admitted = 0;
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    // 3000 requests in waves of 30 at once, each to an instance picked at random.
    for (let wave = 0; wave < 100; wave++) {
      const verdicts = await Promise.all(Array.from({ length: 30 }, () => limiters[Math.floor(random() * 3)].consume('sub:busy')));
      admitted += verdicts.filter((v) => v.allowed).length;
    }
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit - 3 * Math.ceil(limit / 64));
    expect(await redisCount('sub:busy')).toBeGreaterThanOrEqual(admitted);
    expect(calls()).toBeLessThan(600);
  });
});
