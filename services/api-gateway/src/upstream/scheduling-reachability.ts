import { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { CheckState } from '@booking/platform';

export type SchedulingReachabilityOptions = {
  /** scheduling's base URL (or the load balancer's in front of its instances). */
  url: string;
  /** How often scheduling's /health/live is asked. */
  intervalMs?: number;
  /** An answer slower than this counts as none. */
  timeoutMs?: number;
};

/**
 * Whether scheduling answers, for the gateway's readiness: asked in the background every second on one
 * kept-alive connection of its own, so a readiness probe only reads the last answer (it opens no
 * connection and waits for nothing). Unreachable after two missed answers in a row.
 */
export class SchedulingReachability implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pool: Pool;
  private timer?: NodeJS.Timeout;
  private asking?: Promise<void>;
  private stopped = false;
  private misses = 0;
  private answered = false;
  private lastError = 'not asked yet';

  constructor(
    private readonly options: SchedulingReachabilityOptions,
    private readonly logger: Logger,
  ) {
    const timeoutMs = options.timeoutMs ?? 800;
    this.pool = new Pool(options.url, { connections: 1, keepAliveTimeout: 10_000, connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  /** Waits for the first answer (at most `timeoutMs`), so that readiness is right from the first probe. */
  async onApplicationBootstrap(): Promise<void> {
    this.asking = this.ask();
    await this.asking;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.asking;
    await this.pool.close();
  }

  check(): CheckState {
    if (this.answered && this.misses < 2) return { status: 'up' };
    return { status: 'down', message: `scheduling does not answer at ${this.options.url}: ${this.lastError}` };
  }

  private async ask(): Promise<void> {
    try {
      const { statusCode, body } = await this.pool.request({ method: 'GET', path: '/health/live', signal: AbortSignal.timeout(this.options.timeoutMs ?? 800) });
      await body.dump();
      if (statusCode !== 200) throw new Error(`it answered ${statusCode}`);
      if (this.misses >= 2) this.logger.info('scheduling answers again');
      this.answered = true;
      this.misses = 0;
    } catch (error) {
      this.lastError = (error as Error).message;
      this.misses++;
      if (this.misses === 2) this.logger.warn({ err: error, url: this.options.url }, 'scheduling unreachable; the gateway is not ready until it answers');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.asking = this.ask();
    }, this.options.intervalMs ?? 1000);
  }
}
