import Redis from 'ioredis';
import type { Logger } from 'pino';

/**
 * The gateway's one Redis connection (rate-limit counters). Commands fail at once while it is down
 * instead of queueing, so a Redis outage never stalls a request; ioredis keeps reconnecting.
 */
export class RedisConnection {
  readonly client: Redis;
  private lastWarning = 0;

  constructor(url: string, private readonly logger: Logger) {
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      lazyConnect: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    });
    this.client.on('error', (error: Error) => {
      // ioredis reports every failed reconnect; once every half minute is enough to page on.
      if (Date.now() - this.lastWarning < 30_000) return;
      this.lastWarning = Date.now();
      this.logger.warn({ err: error }, 'redis unavailable: rate limits fall back to per-instance memory until it returns');
    });
  }

  /**
   * Connects, waiting until Redis is ready, the first attempt fails, or `timeoutMs`: the gateway starts
   * (counting per instance) even when Redis is away, and ioredis keeps reconnecting behind it.
   */
  async connect(timeoutMs = 3000): Promise<void> {
    await Promise.race([
      this.client.connect().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    // quit() waits for Redis to acknowledge; when it is away, only disconnect() stops the reconnect loop.
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }
}
