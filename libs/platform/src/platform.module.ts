import { DynamicModule, Global, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsServer } from './metrics/metrics-server';
import { Platform, PlatformOptions } from './platform';

class PlatformLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(Platform) private readonly platform: Platform) {}

  async onModuleInit(): Promise<void> {
    await this.platform.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.platform.stop();
  }
}

/**
 * The platform's parts as a Nest module. The per-request context (correlation id, request log) is
 * not Nest middleware here but Fastify hooks `createHttpApp` installs: they then also cover answers
 * Nest never routes (refused bodies, unknown paths) and cost no route matching.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const platform = new Platform(options);
    // With METRICS_PORT, /metrics is served there (MetricsServer) and not on the service port.
    const metrics = options.config.METRICS_PORT === undefined ? [MetricsController] : [];
    return {
      module: PlatformModule,
      controllers: [HealthController, ...metrics],
      providers: [{ provide: Platform, useValue: platform }, PlatformLifecycle, MetricsServer],
      exports: [Platform],
    };
  }
}
