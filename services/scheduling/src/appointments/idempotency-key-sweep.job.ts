import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { deleteOlderThan, Platform } from '@booking/platform';
import { SCHEDULING_CONFIG, SchedulingConfig } from '../config';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Forgets booking Idempotency-Keys past their retention (`IDEMPOTENCY_RETENTION_HOURS`), in batches of
 * short transactions so the sweep never holds many locks. A retry with a forgotten key is a new request.
 * Any number of instances may sweep: a row deleted by one is skipped by the others. Age is the
 * database's clock, which wrote `created_at`.
 */
@Injectable()
export class IdempotencyKeySweepJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(SCHEDULING_CONFIG) private readonly config: SchedulingConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Deletes every expired key; returns how many. Failures are logged and left for the next round. */
  async sweep(batchSize = 1000): Promise<number> {
    try {
      const removed = await deleteOlderThan(this.platform.knex, {
        table: `${this.platform.schema}.idempotency_keys`,
        column: 'created_at',
        hours: this.config.IDEMPOTENCY_RETENTION_HOURS,
        batchSize,
        stopped: () => this.stopped,
      });
      if (removed) this.platform.logger.info({ removed }, 'expired booking idempotency keys removed');
      return removed;
    } catch (error) {
      this.platform.logger.warn({ err: error }, 'idempotency key sweep failed; it runs again later');
      return 0;
    }
  }
}
