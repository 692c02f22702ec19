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
/** An instance reserves at most this share of a caller's remaining allowance at once… */
const RESERVE_DIVISOR = 64;
/** …and never more than this many requests. */
const MAX_RESERVATION = 100;
/** A reply whose window ends this much later than the one known here is about the next window. */
const NEXT_WINDOW_MS = (WINDOW_SECONDS * 1000) / 2;
/** Callers remembered per instance (those with reservations or refusals in the current window). */
const MAX_CALLERS = 50_000;

/**
 * Reserves `ARGV[1]` requests of the caller's window: opens the window if there is none, adds to its
 * count, reads the time left — atomically. The script rate-limiter-flexible's RateLimiterRedis runs
 * for a consume, on the same `<prefix>:<caller>` keys.
 */
const RESERVE_SCRIPT = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

type ScriptedRedis = Redis & { gatewayRateLimitReserve(key: string, points: string, seconds: string): Promise<[number, number]> };

/** What this instance knows of one caller's current window. */
type Window = {
  /** When the window (the Redis key's TTL) ends, in epoch ms. */
  endsAt: number;
  /** Requests reserved in Redis by this instance and not used yet. */
  tokens: number;
  /** The window's count in Redis after this instance's last reservation (every instance's requests and reservations). */
  counted: number;
};

/**
 * A fixed one-minute window per caller, counted in Redis so every gateway instance shares it.
 *
 * Redis is not asked on every request: an instance reserves a few requests of the caller's window at
 * a time (INCRBY in Redis, then counted down here), at most 1/64 of what is left in the window and
 * at most 100, and one at a time as the caller nears the limit. The limit stays a hard bound across
 * instances — Redis never hands out more than N requests per window in total — and what reserving
 * costs is that a caller spread over several instances may be refused up to a reservation early per
 * instance (requests reserved by one instance and not used there). A caller over the limit is
 * refused from memory until the window ends, with no round trip. A single instance reports
 * RateLimit-Remaining exactly; with several, it counts the others' unused reservations as used.
 *
 * While Redis is unreachable each instance counts in memory instead (the insurance limiter): limits
 * loosen to N per instance rather than the gateway refusing all traffic or letting it through uncounted.
 */
export class CallerRateLimiter {
  private readonly redis: ScriptedRedis;
  private readonly insurance: RateLimiterMemory;
  private readonly windows = new Map<string, Window>();
  private readonly reserving = new Map<string, Promise<boolean>>();
  private readonly seconds = String(WINDOW_SECONDS);

  constructor(
    connection: RedisConnection,
    readonly limit: number,
    private readonly keyPrefix: string,
  ) {
    this.redis = connection.client as ScriptedRedis;
    if (typeof this.redis.gatewayRateLimitReserve !== 'function') {
      this.redis.defineCommand('gatewayRateLimitReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
    }
    this.insurance = new RateLimiterMemory({ keyPrefix, points: limit, duration: WINDOW_SECONDS });
  }

  async consume(key: string): Promise<RateLimitVerdict> {
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      const window = this.current(key, now);
      if (window) {
        if (window.tokens > 0) {
          window.tokens--;
          return this.verdict(true, this.limit - window.counted + window.tokens, window.endsAt - now);
        }
        // Redis counted the limit in this window already: it would refuse too, until the window ends.
        if (window.counted >= this.limit) return this.verdict(false, 0, window.endsAt - now);
      }
      if (this.redis.status !== 'ready') return this.consumeInMemory(key);
      // One reservation in flight per caller; the others wait for it and take from what it brought.
      const pending = this.reserving.get(key);
      if (pending && attempt < 3) {
        await pending;
        continue;
      }
      const reservation = this.reserve(key, window);
      this.reserving.set(key, reservation);
      let reserved: boolean;
      try {
        reserved = await reservation;
      } finally {
        if (this.reserving.get(key) === reservation) this.reserving.delete(key);
      }
      // Redis failed mid-call: count this request in memory, as while it is away.
      if (!reserved) return this.consumeInMemory(key);
    }
  }

  private current(key: string, now: number): Window | undefined {
    const window = this.windows.get(key);
    if (window && window.endsAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  /** Reserves the next requests of the caller's window in Redis; false when Redis did not answer. */
  private async reserve(key: string, window: Window | undefined): Promise<boolean> {
    // The first request of a window reserves only itself: many callers send one request and go.
    const points = window ? Math.min(MAX_RESERVATION, Math.max(1, Math.floor((this.limit - window.counted) / RESERVE_DIVISOR))) : 1;
    let reply: [number, number];
    try {
      reply = await this.redis.gatewayRateLimitReserve(`${this.keyPrefix}:${key}`, String(points), this.seconds);
    } catch {
      return false;
    }
    const counted = Number(reply[0]);
    // Of the `points` just added, only those within the limit are ours to admit.
    const granted = Math.max(0, Math.min(points, this.limit - (counted - points)));
    this.remember(key, Date.now() + Number(reply[1]), counted).tokens += granted;
    return true;
  }

  private remember(key: string, endsAt: number, counted: number): Window {
    let window = this.windows.get(key);
    if (window && window.endsAt > Date.now()) {
      if (endsAt - window.endsAt < NEXT_WINDOW_MS) {
        // The same window: a concurrent reservation may have come back first; keep the newest count and every token.
        window.counted = Math.max(window.counted, counted);
        window.endsAt = endsAt;
        return window;
      }
      // Redis opened the next window while this one had a few milliseconds left here (the key's TTL
      // and this instance's clock disagree by a round trip): its count and tokens start over.
      window.counted = counted;
      window.tokens = 0;
      window.endsAt = endsAt;
      return window;
    }
    if (this.windows.size >= MAX_CALLERS) this.evict();
    window = { endsAt, tokens: 0, counted };
    this.windows.set(key, window);
    return window;
  }

  /** Drops ended windows; if all are live, the oldest entries (their unused reservations are simply not used). */
  private evict(): void {
    const now = Date.now();
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_CALLERS * 0.9) break;
      this.windows.delete(key);
    }
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
