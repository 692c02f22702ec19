import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Platform, PlatformModule } from '@booking/platform';
import { AdminHttpController } from './admin/admin.http.controller';
import { AppointmentsHttpController } from './appointments/appointments.http.controller';
import { AsyncApiHttpController } from './asyncapi/asyncapi.http.controller';
import { CallerGuard } from './auth/caller.guard';
import { JsonBodyGuard } from './auth/json-body.guard';
import { JwtVerifier } from './auth/jwt-verifier';
import { ApiGatewayConfig } from './config';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { IdempotencySweepJob } from './idempotency/idempotency-sweep.job';
import { IdempotentCommands } from './idempotency/idempotent-commands';
import { migrations } from './migrations';
import { ProvidersHttpController } from './providers/providers.http.controller';
import { CallerRateLimiter } from './rate-limit/caller-rate-limiter';
import { RedisConnection } from './rate-limit/redis.connection';
import { SchedulingChangeFeed } from './upstream/scheduling-change-feed';
import { SchedulingReachability } from './upstream/scheduling-reachability';
import { SchedulingClient, UpstreamAnswers } from './upstream/scheduling.client';

/**
 * Opens and closes the gateway's own connections alongside the platform's, and adds what the gateway
 * needs to its readiness: scheduling answering (required), and its rate-limit store, which is never
 * required: without Redis rate limits fall back to per-instance memory, and taking every gateway out of
 * rotation over a counter store would turn a degradation into an outage.
 */
class GatewayLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(RedisConnection) private readonly redis: RedisConnection,
    @Inject(SchedulingClient) private readonly scheduling: SchedulingClient,
    @Inject(SchedulingReachability) private readonly reachability: SchedulingReachability,
  ) {}

  async onModuleInit(): Promise<void> {
    this.platform.addCheck('scheduling', () => this.reachability.check());
    this.platform.addCheck('redis', () =>
      this.redis.client.status === 'ready'
        ? { status: 'up' }
        : { status: 'degraded', message: `redis ${this.redis.client.status}`, impact: 'rate limits are counted per instance until Redis is back' },
    );
    await this.redis.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.redis.close(), this.scheduling.close()]);
  }
}

/**
 * The API gateway: /v1 over scheduling (HTTP), bearer-JWT authentication and role-based
 * authorization, per-caller rate limits in Redis, Idempotency-Keys in its own `gateway` schema.
 */
@Module({})
export class AppModule {
  static forRoot(config: ApiGatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'api-gateway', schema: 'gateway', migrations, topics: [], config, kafka: 'none' })],
      controllers: [ProvidersHttpController, AppointmentsHttpController, AdminHttpController, AsyncApiHttpController],
      providers: [
        {
          provide: JwtVerifier,
          useFactory: () =>
            new JwtVerifier({
              issuer: config.JWT_ISSUER,
              audience: config.JWT_AUDIENCE,
              secret: config.JWT_SECRET,
              publicKey: config.JWT_PUBLIC_KEY,
              jwksUrl: config.JWT_JWKS_URL,
              jwksRefreshSeconds: config.JWT_JWKS_REFRESH_SECONDS,
              clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
            }),
        },
        { provide: RedisConnection, inject: [Platform], useFactory: (platform: Platform) => new RedisConnection(config.REDIS_URL, platform.logger) },
        {
          provide: CallerRateLimiter,
          inject: [RedisConnection],
          useFactory: (redis: RedisConnection) => new CallerRateLimiter(redis, config.RATE_LIMIT_PER_MINUTE, config.RATE_LIMIT_KEY_PREFIX),
        },
        {
          provide: SchedulingChangeFeed,
          inject: [Platform],
          useFactory: (platform: Platform) => new SchedulingChangeFeed({ url: config.SCHEDULING_URL, enabled: config.SCHEDULING_CHANGE_FEED }, platform.logger),
        },
        {
          provide: SchedulingClient,
          inject: [Platform, SchedulingChangeFeed],
          useFactory: (platform: Platform, feed: SchedulingChangeFeed) =>
            new SchedulingClient(
              { url: config.SCHEDULING_URL, timeoutMs: config.SCHEDULING_TIMEOUT_MS, connections: config.SCHEDULING_CONNECTIONS, feed },
              platform.logger,
            ),
        },
        {
          provide: SchedulingReachability,
          inject: [Platform],
          useFactory: (platform: Platform) => new SchedulingReachability({ url: config.SCHEDULING_URL }, platform.logger),
        },
        { provide: UpstreamAnswers, useValue: new UpstreamAnswers(config.SLOT_ANSWERS_MAX_BYTES) },
        { provide: IdempotencyRepository, inject: [Platform], useFactory: (platform: Platform) => new IdempotencyRepository(platform.knex) },
        {
          provide: IdempotentCommands,
          inject: [IdempotencyRepository, Platform],
          useFactory: (repository: IdempotencyRepository, platform: Platform) => new IdempotentCommands(repository, config.IDEMPOTENCY_LEASE_SECONDS, platform.logger),
        },
        {
          provide: IdempotencySweepJob,
          inject: [IdempotencyRepository, Platform],
          useFactory: (repository: IdempotencyRepository, platform: Platform) =>
            new IdempotencySweepJob(repository, config.IDEMPOTENCY_RETENTION_HOURS, platform.logger),
        },
        CallerGuard,
        JsonBodyGuard,
        GatewayLifecycle,
      ],
    };
  }
}
