import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Platform } from '../platform';

/**
 * The probes, answered from state the instance keeps (no connection opened, no dependency awaited):
 * - `live`: the process serves HTTP (its event loop answers);
 * - `started`: start-up (migrations included) has finished; stays 200 through a shutdown;
 * - `ready`: the instance can do its job now (see `Platform.readiness`); 503 names each failing check.
 */
@Controller('health')
export class HealthController {
  constructor(@Inject(Platform) private readonly platform: Platform) {}

  /** A constant answer on the full HTTP stack: the anchor the benchmarks compare endpoints against. */
  @Get('ping')
  ping() {
    return { pong: true };
  }

  @Get('live')
  live() {
    return { status: 'ok', pid: process.pid };
  }

  @Get('started')
  started(@Res() reply: FastifyReply): void {
    const started = this.platform.isStarted() || this.platform.isShuttingDown();
    reply.status(started ? 200 : 503).send(started ? { status: 'ok' } : { status: 'error', detail: 'not started: still starting' });
  }

  @Get('ready')
  ready(@Res() reply: FastifyReply): void {
    const report = this.platform.readiness();
    reply.status(report.status === 'error' ? 503 : 200).send(report);
  }
}
