import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Platform } from '@booking/platform';
import { RedisConnection } from '../rate-limit/redis.connection';

type Indicator = { status: 'up' | 'down'; message?: string; impact?: string };

async function probe(check: () => Promise<void>): Promise<Indicator> {
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 2s')), 2000).unref());
  try {
    await Promise.race([check(), timer]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', message: (error as Error).message };
  }
}

/**
 * The gateway's readiness: the platform's checks (Postgres, Kafka, start-up) plus Redis. Redis is
 * reported but does not fail readiness: without it rate limits fall back to per-instance memory, and
 * taking every gateway out of rotation over a counter store would turn a degradation into an outage.
 * It is registered before the platform's own /health/ready (the app module's controllers come first).
 */
@ApiExcludeController()
@Controller('health')
export class GatewayHealthHttpController {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  @Get('ready')
  async ready(@Res() res: FastifyReply): Promise<void> {
    const [postgres, kafka, redis] = await Promise.all([
      probe(() => this.platform.checkDatabase()),
      probe(() => this.platform.checkKafka()),
      probe(() => this.redis.ping()),
    ]);
    const startup: Indicator = this.platform.isStarted() ? { status: 'up' } : { status: 'down', message: 'still starting' };
    if (redis.status === 'down') redis.impact = 'rate limits are counted per instance until Redis is back';
    const required = { postgres, kafka, startup };
    const details = { ...required, redis };
    const ok = Object.values(required).every((i) => i.status === 'up');
    const pick = (status: Indicator['status']) => Object.fromEntries(Object.entries(details).filter(([, i]) => i.status === status));
    res.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'error', info: pick('up'), error: pick('down'), details });
  }
}
