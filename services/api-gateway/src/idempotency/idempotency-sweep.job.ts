import { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { IdempotencyRepository } from './idempotency.repository';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Forgets Idempotency-Keys past their retention. Any number of instances may sweep: deletes are idempotent. */
export class IdempotencySweepJob implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly retentionHours: number,
    private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<number> {
    try {
      const removed = await this.repository.sweep(this.retentionHours);
      if (removed) this.logger.info({ removed }, 'expired idempotency keys removed');
      return removed;
    } catch (error) {
      this.logger.warn({ err: error }, 'idempotency key sweep failed; it runs again later');
      return 0;
    }
  }
}
