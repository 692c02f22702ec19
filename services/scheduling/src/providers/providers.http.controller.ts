import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { addBlockedTimeRequest, blockedTimesQuery, createProviderRequest, listProvidersQuery, updateProviderRequest } from '@booking/contracts';
import { parseRequest, sendRevalidatableJson } from '@booking/platform';
import { AVAILABILITY_FRESH_FOR, MAX_FRESH_FOR_MS, SlotsService } from '../availability/slots.service';
import { Clock } from '../shared/clock';
import { schedulingSlotsQuery } from '../availability/slots.request';
import { mapErrors, providerBodyPath } from '../shared/errors';
import { uuidParam } from '../shared/params';
import { providerResponse } from './provider';
import { ProvidersService } from './providers.service';

@Controller('providers')
export class ProvidersHttpController {
  constructor(
    private readonly providers: ProvidersService,
    private readonly slotsService: SlotsService,
    private readonly clock: Clock,
  ) {}

  @Post()
  async create(@Body() body: unknown) {
    const request = parseRequest(createProviderRequest, body);
    return providerResponse(await mapErrors(() => this.providers.create(request), providerBodyPath));
  }

  @Get()
  async list(@Query() query: unknown) {
    const q = parseRequest(listProvidersQuery, query, 'query');
    const page = await this.providers.list(q.limit, q.cursor);
    return { items: page.items.map(providerResponse), nextCursor: page.nextCursor };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return providerResponse(await this.providers.get(uuidParam(id, 'id')));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown) {
    const providerId = uuidParam(id, 'id');
    const request = parseRequest(updateProviderRequest, body);
    return providerResponse(await mapErrors(() => this.providers.update(providerId, request), providerBodyPath));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string) {
    await this.providers.remove(uuidParam(id, 'id'));
  }

  @Post(':id/blocked-times')
  async addBlockedTime(@Param('id') id: string, @Body() body: unknown) {
    const providerId = uuidParam(id, 'id');
    return this.providers.addBlockedTime(providerId, parseRequest(addBlockedTimeRequest, body));
  }

  @Get(':id/blocked-times')
  async listBlockedTimes(@Param('id') id: string, @Query() query: unknown) {
    const providerId = uuidParam(id, 'id');
    const q = parseRequest(blockedTimesQuery, query, 'query');
    return { items: await this.providers.listBlockedTimes(providerId, q.from, q.to) };
  }

  @Delete(':id/blocked-times/:blockedId')
  @HttpCode(204)
  async removeBlockedTime(@Param('id') id: string, @Param('blockedId') blockedId: string) {
    await this.providers.removeBlockedTime(uuidParam(id, 'id'), uuidParam(blockedId, 'blockedId'));
  }

  /**
   * Sent as the memoised bytes with a strong ETag; `If-None-Match` with that tag → 304 without a
   * body. `no-cache`: a cache may keep the answer but must revalidate it, as availability changes.
   */
  @Get(':id/slots')
  async slots(
    @Param('id') id: string,
    @Query() query: unknown,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Headers('cache-control') cacheControl: string | undefined,
    @Res() res: FastifyReply,
  ) {
    const providerId = uuidParam(id, 'id');
    // `no-cache` (RFC 9111 §5.2.1.4): the caller will trust the answer until told of a change, so it is
    // checked against the database, not only against what this instance has heard.
    const verify = cacheControl !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(cacheControl);
    const answer = await this.slotsService.slots(providerId, parseRequest(schedulingSlotsQuery, query, 'query'), { verify });
    // For a cache that hears the change feed (the gateway): the answer holds this long unless the feed
    // announces a change of the provider (the clock alone changes it at `until`).
    res.header(AVAILABILITY_FRESH_FOR, String(Math.max(0, Math.min(answer.until - this.clock.now().getTime(), MAX_FRESH_FOR_MS))));
    sendRevalidatableJson(res, ifNoneMatch, answer.body, answer.etag);
  }
}
