import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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
 * A fixed one-minute window per caller, counted in Redis so every gateway instance shares it. While
 * Redis is unreachable each instance counts in memory instead (the insurance limiter): limits loosen
 * to N per instance rather than the gateway refusing all traffic or letting it through uncounted.
 */
export class CallerRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    redis: RedisConnection,
    readonly limit: number,
    keyPrefix: string,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix,
      points: limit,
      duration: WINDOW_SECONDS,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: limit, duration: WINDOW_SECONDS }),
    });
  }

  async consume(key: string): Promise<RateLimitVerdict> {
    try {
      return this.verdict(await this.limiter.consume(key), true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return this.verdict(rejection, false);
      throw rejection;
    }
  }

  private verdict(res: RateLimiterRes, allowed: boolean): RateLimitVerdict {
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, res.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    };
  }
}
