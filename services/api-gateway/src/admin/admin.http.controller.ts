import { Body, Controller, Headers, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { rebuildProjectionsResponse as rebuildResponse } from '@booking/contracts';
import { parseRequest } from '@booking/platform';
import { authorize } from '../auth/authorization';
import { Caller, CallerGuard } from '../auth/caller.guard';
import { enforce } from '../auth/enforce';
import { JsonBodyGuard } from '../auth/json-body.guard';
import { Principal } from '../auth/principal';
import { idempotencyKey } from '../idempotency/idempotency-key';
import { IdempotencyKeyHeader, Problems, ZodBody, ZodResponse } from '../openapi/zod-openapi';
import { emptyBody } from '../shared/schemas';
import { SchedulingClient } from '../upstream/scheduling.client';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(CallerGuard, JsonBodyGuard)
@Controller('v1/admin')
export class AdminHttpController {
  constructor(@Inject(SchedulingClient) private readonly scheduling: SchedulingClient) {}

  @Post('projections/rebuild')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rebuild the appointments projection',
    description:
      'Operators only (admin, service): scheduling replays every appointment stream of its event store into the appointments table. ' +
      'Safe to repeat: a rebuild writes what the events say, so an Idempotency-Key is accepted (checked) but nothing needs to be replayed.',
  })
  @IdempotencyKeyHeader()
  @ZodBody(emptyBody, { description: 'No body, or {}', required: false })
  @ZodResponse(200, rebuildResponse, 'How many streams were replayed')
  @Problems(400, 403, 413, 415)
  async rebuild(@Caller() caller: Principal, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined) {
    idempotencyKey(key);
    parseRequest(emptyBody, body ?? {});
    enforce(authorize(caller, { type: 'admin.rebuildProjections' }));
    return (await this.scheduling.call({ method: 'POST', path: '/admin/projections/rebuild' }, rebuildResponse)).body;
  }
}
