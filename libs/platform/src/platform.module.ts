import { DynamicModule, Global, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller';
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
 * not Nest middleware here but the first Express middleware `createHttpApp` installs: it then also
 * covers answers Nest never routes (body-parser refusals, unknown paths) and costs no route matching.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const platform = new Platform(options);
    return {
      module: PlatformModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [{ provide: Platform, useValue: platform }, PlatformLifecycle],
      exports: [Platform],
    };
  }
}
