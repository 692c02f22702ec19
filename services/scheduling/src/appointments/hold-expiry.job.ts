import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Platform } from '@booking/platform';
import { SCHEDULING_CONFIG, SchedulingConfig } from '../config';
import { AppointmentsService } from './appointments.service';
import { schedulingMetrics } from '../scheduling.metrics';

/** Periodically cancels PENDING holds whose TTL passed (reason EXPIRED); safe on every instance. */
@Injectable()
export class HoldExpiryJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly appointments: AppointmentsService,
    @Inject(SCHEDULING_CONFIG) private readonly config: SchedulingConfig,
    @Inject(Platform) private readonly platform: Platform,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep().finally(() => this.schedule());
    }, this.config.EXPIRY_SWEEP_INTERVAL_MS);
  }

  async sweep(): Promise<void> {
    try {
      for (let expired = 1; !this.stopped && expired > 0; ) {
        expired = await this.appointments.expireHolds();
        schedulingMetrics.holdsExpired.inc(expired);
      }
    } catch (error) {
      this.platform.logger.error({ err: error }, 'hold expiry sweep failed');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
