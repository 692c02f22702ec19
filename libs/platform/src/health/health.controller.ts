import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Platform } from '../platform';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** A constant answer on the full HTTP stack: the anchor the benchmarks compare endpoints against. */
  @Get('ping')
  ping() {
    return { pong: true };
  }

  /** The process is up and its event loop answers. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([async () => this.indicators.check('process').up({ pid: process.pid })]);
  }
}

/** `/health/ready`, apart so that a service with more to check (the gateway: Redis) can answer it itself. */
@Controller('health')
export class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(Platform) private readonly platform: Platform,
  ) {}

  /** Postgres and Kafka both answer, and start-up (migrations, topics, relay) has finished. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.probe('postgres', () => this.platform.checkDatabase()),
      () => this.probe('kafka', () => this.platform.checkKafka()),
      async () => {
        const indicator = this.indicators.check('startup');
        return this.platform.isStarted() ? indicator.up() : indicator.down({ message: 'still starting' });
      },
    ]);
  }

  private async probe(key: string, check: () => Promise<void>) {
    const indicator = this.indicators.check(key);
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 2s')), 2000).unref());
    try {
      await Promise.race([check(), timer]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
