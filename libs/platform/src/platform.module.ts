import {
  DynamicModule,
  Global,
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { NextFunction, Request, Response } from 'express';
import { HEADER_CORRELATION_ID } from '@booking/contracts';
import { HealthController } from './health/health.controller';
import { acceptCorrelationId, withCorrelation } from './logging/correlation';
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

/** Accepts or makes the request's correlation id, echoes it, and runs the request inside it. */
function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const correlationId = acceptCorrelationId(req.headers[HEADER_CORRELATION_ID]);
  (req as Request & { id?: string }).id = correlationId;
  res.setHeader(HEADER_CORRELATION_ID, correlationId);
  withCorrelation({ correlationId }, next);
}

@Global()
@Module({})
export class PlatformModule implements NestModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const platform = new Platform(options);
    return {
      module: PlatformModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        LoggerModule.forRoot({
          pinoHttp: {
            logger: platform.logger,
            genReqId: (req) => (req as Request & { id?: string }).id ?? acceptCorrelationId(req.headers[HEADER_CORRELATION_ID]),
            customProps: (req) => ({ correlationId: (req as Request & { id?: string }).id }),
            autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
            quietReqLogger: true,
          },
        }),
      ],
      controllers: [HealthController],
      providers: [{ provide: Platform, useValue: platform }, PlatformLifecycle],
      exports: [Platform],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(correlationMiddleware).forRoutes('*');
  }
}
