import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  addBlockedTimeRequest,
  blockedTimeResponse,
  blockedTimesQuery,
  blockedTimesResponse,
  createProviderRequest,
  listProvidersQuery,
  providerResponse,
  providersPage,
  slotsQuery,
  slotsResponse,
  updateProviderRequest,
} from '@booking/contracts';
import { parseRequest, sendRevalidatableJson } from '@booking/platform';
import { authorize } from '../auth/authorization';
import { Caller, CallerGuard } from '../auth/caller.guard';
import { enforce } from '../auth/enforce';
import { JsonBodyGuard } from '../auth/json-body.guard';
import { Principal } from '../auth/principal';
import { derivedId, idempotencyKey } from '../idempotency/idempotency-key';
import { IdempotentCommands, sendOutcome } from '../idempotency/idempotent-commands';
import { IdempotencyKeyHeader, Problems, UuidParam, ZodBody, ZodQuery, ZodResponse } from '../openapi/zod-openapi';
import { uuidParam } from '../shared/params';
import { noContent } from '../shared/schemas';
import { SchedulingClient, UpstreamAnswers } from '../upstream/scheduling.client';

@ApiTags('providers')
@ApiBearerAuth()
@UseGuards(CallerGuard, JsonBodyGuard)
@Controller('v1/providers')
export class ProvidersHttpController {
  constructor(
    @Inject(SchedulingClient) private readonly scheduling: SchedulingClient,
    @Inject(IdempotentCommands) private readonly commands: IdempotentCommands,
    @Inject(UpstreamAnswers) private readonly slotAnswers: UpstreamAnswers,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a provider',
    description: 'Admins and service accounts create any provider; a provider creates only their own record, whose id is their token\'s provider_id.',
  })
  @IdempotencyKeyHeader()
  @ZodBody(createProviderRequest)
  @ZodResponse(201, providerResponse, 'The provider')
  @Problems(400, 403, 409, 413, 415, 422)
  async create(
    @Caller() caller: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') keyHeader: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const key = idempotencyKey(keyHeader);
    const request = parseRequest(createProviderRequest, body);
    const decision = enforce(authorize(caller, { type: 'providers.create', providerId: request.id }));
    // With a key and no id, the id comes from the key: a retry after a lost answer cannot create a second provider.
    const id = request.id ?? decision.providerId ?? (key ? derivedId(caller.subject, key) : undefined);
    const outcome = await this.commands.run({ caller: caller.subject, key, method: 'POST', path: '/v1/providers', body: request }, async () => {
      const reply = await this.scheduling.call({ method: 'POST', path: '/providers', body: { ...request, id } }, providerResponse);
      return { status: 201, body: reply.body };
    });
    return sendOutcome<{ id: string }>(res, outcome, (p) => `/v1/providers/${p.id}`);
  }

  @Get()
  @ApiOperation({ summary: 'List providers', description: 'Every role. Keyset pagination: pass nextCursor as cursor.' })
  @ZodQuery(listProvidersQuery)
  @ZodResponse(200, providersPage, 'A page of providers')
  @Problems(400)
  async list(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(listProvidersQuery, query, 'query');
    enforce(authorize(caller, { type: 'providers.read' }));
    return (await this.scheduling.call({ method: 'GET', path: '/providers', query: q }, providersPage)).body;
  }

  @Get(':providerId')
  @ApiOperation({ summary: 'Get a provider', description: 'Every role.' })
  @UuidParam('providerId', 'The provider')
  @ZodResponse(200, providerResponse, 'The provider')
  @Problems(400, 404)
  async get(@Caller() caller: Principal, @Param('providerId') providerIdParam: string) {
    const providerId = uuidParam(providerIdParam, 'providerId');
    enforce(authorize(caller, { type: 'providers.read' }));
    return (await this.scheduling.call({ method: 'GET', path: `/providers/${providerId}` }, providerResponse)).body;
  }

  @Patch(':providerId')
  @ApiOperation({ summary: 'Change a provider', description: 'Admins and service accounts; a provider changes only their own record. Applies to future bookings only.' })
  @UuidParam('providerId', 'The provider')
  @ZodBody(updateProviderRequest)
  @ZodResponse(200, providerResponse, 'The provider as changed')
  @Problems(400, 403, 404, 413, 415)
  async update(@Caller() caller: Principal, @Param('providerId') providerIdParam: string, @Body() body: unknown) {
    const providerId = uuidParam(providerIdParam, 'providerId');
    const request = parseRequest(updateProviderRequest, body);
    enforce(authorize(caller, { type: 'providers.manage', providerId }));
    return (await this.scheduling.call({ method: 'PATCH', path: `/providers/${providerId}`, body: request }, providerResponse)).body;
  }

  @Delete(':providerId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a provider', description: 'Soft delete: no new bookings; existing appointments stay. Admins, service accounts, the provider themselves.' })
  @UuidParam('providerId', 'The provider')
  @ZodResponse(204, noContent, 'Deleted')
  @Problems(400, 403, 404)
  async remove(@Caller() caller: Principal, @Param('providerId') providerIdParam: string) {
    const providerId = uuidParam(providerIdParam, 'providerId');
    enforce(authorize(caller, { type: 'providers.manage', providerId }));
    await this.scheduling.call({ method: 'DELETE', path: `/providers/${providerId}` }, noContent);
  }

  @Get(':providerId/slots')
  @ApiOperation({
    summary: 'Free slots',
    description: 'Every role. One `date`, or `from`..`to` (at most 31 days), as dates in the client\'s `timeZone`; slots come as UTC instants plus their rendering in that zone.',
  })
  @UuidParam('providerId', 'The provider')
  @ZodQuery(slotsQuery)
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of an answer you hold: 304 without a body while it is still the answer.' })
  @ZodResponse(200, slotsResponse, 'Free slots (with a strong ETag; Cache-Control: private, no-cache)')
  @ApiResponse({ status: 304, description: 'The answer whose ETag was sent in If-None-Match is still current' })
  @Problems(400, 404)
  async slots(
    @Caller() caller: Principal,
    @Param('providerId') providerIdParam: string,
    @Query() query: unknown,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const providerId = uuidParam(providerIdParam, 'providerId');
    const q = parseRequest(slotsQuery, query, 'query');
    enforce(authorize(caller, { type: 'providers.read' }));
    // The gateway keeps the bytes it last checked: sent again without asking scheduling while its change
    // feed names no change of the provider, and on scheduling's 304 without moving or parsing them.
    const answer = await this.scheduling.revalidate({ method: 'GET', path: `/providers/${providerId}/slots`, query: q }, slotsResponse, this.slotAnswers, { providerId });
    sendRevalidatableJson(res, ifNoneMatch, answer.json, answer.etag);
  }

  @Get(':providerId/blocked-times')
  @ApiOperation({ summary: 'List blocked time', description: 'Admins, service accounts, the provider themselves.' })
  @UuidParam('providerId', 'The provider')
  @ZodQuery(blockedTimesQuery)
  @ZodResponse(200, blockedTimesResponse, 'Blocked time overlapping from..to')
  @Problems(400, 403, 404)
  async listBlockedTimes(@Caller() caller: Principal, @Param('providerId') providerIdParam: string, @Query() query: unknown) {
    const providerId = uuidParam(providerIdParam, 'providerId');
    const q = parseRequest(blockedTimesQuery, query, 'query');
    enforce(authorize(caller, { type: 'providers.manage', providerId }));
    return (await this.scheduling.call({ method: 'GET', path: `/providers/${providerId}/blocked-times`, query: q }, blockedTimesResponse)).body;
  }

  @Post(':providerId/blocked-times')
  @ApiOperation({ summary: 'Block time', description: 'Admins, service accounts, the provider themselves.' })
  @UuidParam('providerId', 'The provider')
  @IdempotencyKeyHeader()
  @ZodBody(addBlockedTimeRequest)
  @ZodResponse(201, blockedTimeResponse, 'The blocked time')
  @Problems(400, 403, 404, 409, 413, 415, 422)
  async addBlockedTime(
    @Caller() caller: Principal,
    @Param('providerId') providerIdParam: string,
    @Body() body: unknown,
    @Headers('idempotency-key') keyHeader: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const key = idempotencyKey(keyHeader);
    const providerId = uuidParam(providerIdParam, 'providerId');
    const request = parseRequest(addBlockedTimeRequest, body);
    enforce(authorize(caller, { type: 'providers.manage', providerId }));
    const path = `/v1/providers/${providerId}/blocked-times`;
    const outcome = await this.commands.run({ caller: caller.subject, key, method: 'POST', path, body: request }, async () => {
      const reply = await this.scheduling.call({ method: 'POST', path: `/providers/${providerId}/blocked-times`, body: request }, blockedTimeResponse);
      return { status: 201, body: reply.body };
    });
    return sendOutcome<{ id: string }>(res, outcome, (b) => `${path}/${b.id}`);
  }

  @Delete(':providerId/blocked-times/:blockedTimeId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove blocked time', description: 'Admins, service accounts, the provider themselves.' })
  @UuidParam('providerId', 'The provider')
  @UuidParam('blockedTimeId', 'The blocked time')
  @ZodResponse(204, noContent, 'Removed')
  @Problems(400, 403, 404)
  async removeBlockedTime(@Caller() caller: Principal, @Param('providerId') providerIdParam: string, @Param('blockedTimeId') blockedTimeIdParam: string) {
    const providerId = uuidParam(providerIdParam, 'providerId');
    const blockedTimeId = uuidParam(blockedTimeIdParam, 'blockedTimeId');
    enforce(authorize(caller, { type: 'providers.manage', providerId }));
    await this.scheduling.call({ method: 'DELETE', path: `/providers/${providerId}/blocked-times/${blockedTimeId}` }, noContent);
  }
}
