import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisConnection } from './redis.connection';

export type RateLimitVerdict = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
};

const WINDOW_SECONDS = 60;

/**
 * One round trip per request: open the window if there is none, count the request, read the time
 * left — atomically, in Redis. It is the script rate-limiter-flexible's RateLimiterRedis runs for a
 * consume, on the same `<prefix>:<caller>` keys, called straight through ioredis: that library
 * builds an unused MULTI pipeline and a chain of promises around every call, which under load cost
 * as much CPU as the round trip itself.
 */
const CONSUME_SCRIPT = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

type ScriptedRedis = Redis & { gatewayRateLimitConsume(key: string, points: string, seconds: string): Promise<[number, number]> };

/**
 * A fixed one-minute window per caller, counted in Redis so every gateway instance shares it. While
 * Redis is unreachable each instance counts in memory instead (the insurance limiter): limits loosen
 * to N per instance rather than the gateway refusing all traffic or letting it through uncounted.
 */
export class CallerRateLimiter {
  private readonly redis: ScriptedRedis;
  private readonly insurance: RateLimiterMemory;
  private readonly points: string;
  private readonly seconds = String(WINDOW_SECONDS);

  constructor(
    connection: RedisConnection,
    readonly limit: number,
    private readonly keyPrefix: string,
  ) {
    this.redis = connection.client as ScriptedRedis;
    if (typeof this.redis.gatewayRateLimitConsume !== 'function') {
      this.redis.defineCommand('gatewayRateLimitConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
    }
    this.points = '1';
    this.insurance = new RateLimiterMemory({ keyPrefix, points: limit, duration: WINDOW_SECONDS });
  }

  async consume(key: string): Promise<RateLimitVerdict> {
    if (this.redis.status === 'ready') {
      let counted: [number, number] | undefined;
      try {
        counted = await this.redis.gatewayRateLimitConsume(`${this.keyPrefix}:${key}`, this.points, this.seconds);
      } catch {
        // Redis failed mid-call: count this request in memory, as while it is away.
      }
      if (counted) {
        const consumed = Number(counted[0]);
        return this.verdict(consumed <= this.limit, this.limit - consumed, Number(counted[1]));
      }
    }
    return this.consumeInMemory(key);
  }

  private async consumeInMemory(key: string): Promise<RateLimitVerdict> {
    try {
      const res = await this.insurance.consume(key);
      return this.verdict(true, res.remainingPoints, res.msBeforeNext);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return this.verdict(false, rejection.remainingPoints, rejection.msBeforeNext);
      throw rejection;
    }
  }

  private verdict(allowed: boolean, remaining: number, msBeforeNext: number): RateLimitVerdict {
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, remaining),
      resetSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
    };
  }
}
