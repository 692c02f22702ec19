import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  appointmentEvents,
  appointmentResponse,
  AppointmentResponse,
  appointmentsPage,
  bookAppointmentRequest,
  CancelAppointmentRequest,
  listAppointmentsQuery,
  publicRescheduleRequest,
  RescheduleAppointmentRequest,
} from '@booking/contracts';
import { parseRequest, ProblemError } from '@booking/platform';
import { Action, Actor, authorize } from '../auth/authorization';
import { Caller, CallerGuard } from '../auth/caller.guard';
import { Allowed, enforce } from '../auth/enforce';
import { JsonBodyGuard } from '../auth/json-body.guard';
import { Principal } from '../auth/principal';
import { idempotencyKey } from '../idempotency/idempotency-key';
import { IdempotentCommands, sendOutcome } from '../idempotency/idempotent-commands';
import { IdempotencyKeyHeader, Problems, UuidParam, ZodBody, ZodQuery, ZodResponse } from '../openapi/zod-openapi';
import { uuidParam } from '../shared/params';
import { emptyBody } from '../shared/schemas';
import { SchedulingClient } from '../upstream/scheduling.client';

type CommandAction = 'appointments.cancel' | 'appointments.reschedule' | 'appointments.complete' | 'appointments.noShow';

/** Who cancels or reschedules, as scheduling's contract requires it: authorization always decides it for these actions. */
function actorOf(allowed: Allowed): Actor {
  if (!allowed.actor) throw new Error('authorization allowed a cancel or reschedule without deciding its actor');
  return allowed.actor;
}

const OWN = 'Clients see only their own appointments and providers only theirs; anyone else\'s answers 404, exactly like a missing one.';

@ApiTags('appointments')
@ApiBearerAuth()
@UseGuards(CallerGuard, JsonBodyGuard)
@Controller('v1/appointments')
export class AppointmentsHttpController {
  constructor(
    @Inject(SchedulingClient) private readonly scheduling: SchedulingClient,
    @Inject(IdempotentCommands) private readonly commands: IdempotentCommands,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Book a slot',
    description:
      'Clients book for themselves (clientId = their client_id); admins and service accounts for anyone. PENDING until paid, CONFIRMED at once when free. ' +
      'The Idempotency-Key is recorded by scheduling in the booking\'s own transaction, so a retry can never book twice. ' +
      'Without one the gateway makes one and returns it in the Idempotency-Key header (and in a 504 body as idempotencyKey): repeating the request with it answers what happened.',
  })
  @IdempotencyKeyHeader()
  @ZodBody(bookAppointmentRequest)
  @ZodResponse(201, appointmentResponse, 'The appointment')
  @Problems(400, 403, 409, 413, 415, 422)
  async book(
    @Caller() caller: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') keyHeader: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const given = idempotencyKey(keyHeader);
    const request = parseRequest(bookAppointmentRequest, body);
    enforce(authorize(caller, { type: 'appointments.book', providerId: request.providerId, clientId: request.clientId }));
    // Every booking has a key, so that a client who gets no answer (a timeout) can always learn the
    // outcome: retrying with the key replays what happened. Without the client's own, one is made here
    // and returned in the Idempotency-Key header (and in a 504's body).
    const key = given ?? `gw-${randomUUID()}`;
    res.header('Idempotency-Key', key);
    let reply;
    try {
      reply = await this.scheduling.call(
        { method: 'POST', path: '/appointments', body: request, headers: { 'idempotency-key': key, 'x-caller-id': caller.subject } },
        appointmentResponse,
      );
    } catch (error) {
      if (error instanceof ProblemError && error.getStatus() === 504) {
        throw new ProblemError(
          504,
          error.code,
          `${error.message} The booking may still be made: repeat the request with Idempotency-Key: ${key} to learn its outcome.`,
          { ...error.extras, idempotencyKey: key },
          error.headers,
        );
      }
      throw error;
    }
    if (reply.headers['idempotent-replayed'] === 'true') res.header('Idempotent-Replayed', 'true');
    res.status(reply.status).header('Location', `/v1/appointments/${reply.body.id}`);
    return reply.body;
  }

  @Get()
  @ApiOperation({
    summary: 'List appointments',
    description: 'Filters and keyset pagination (pass nextCursor as cursor). A client\'s list is narrowed to their own appointments, a provider\'s to theirs.',
  })
  @ZodQuery(listAppointmentsQuery)
  @ZodResponse(200, appointmentsPage, 'A page of appointments, by start time')
  @Problems(400, 403)
  async list(@Caller() caller: Principal, @Query() query: unknown) {
    const q = parseRequest(listAppointmentsQuery, query, 'query');
    const { scope } = enforce(authorize(caller, { type: 'appointments.list', providerId: q.providerId, clientId: q.clientId }));
    return (await this.scheduling.call({ method: 'GET', path: '/appointments', query: { ...q, ...scope } }, appointmentsPage)).body;
  }

  @Get(':appointmentId')
  @ApiOperation({ summary: 'Get an appointment', description: OWN })
  @UuidParam('appointmentId', 'The appointment')
  @ZodResponse(200, appointmentResponse, 'The appointment')
  @Problems(400, 404)
  async get(@Caller() caller: Principal, @Param('appointmentId') idParam: string) {
    const { appointment } = await this.authorized(caller, uuidParam(idParam, 'appointmentId'), 'appointments.read');
    return appointment;
  }

  @Get(':appointmentId/events')
  @ApiOperation({ summary: 'An appointment\'s event history', description: OWN })
  @UuidParam('appointmentId', 'The appointment')
  @ZodResponse(200, appointmentEvents, 'Its events, oldest first')
  @Problems(400, 404)
  async events(@Caller() caller: Principal, @Param('appointmentId') idParam: string) {
    const appointmentId = uuidParam(idParam, 'appointmentId');
    await this.authorized(caller, appointmentId, 'appointments.read');
    return (await this.scheduling.call({ method: 'GET', path: `/appointments/${appointmentId}/events` }, appointmentEvents)).body;
  }

  @Post(':appointmentId/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel',
    description:
      'The client (CLIENT policy: a late cancellation keeps the late fee), the provider, or an admin/service account (both PROVIDER policy: full refund). ' +
      'Who cancels comes from the token, never from the body. ' + OWN,
  })
  @UuidParam('appointmentId', 'The appointment')
  @IdempotencyKeyHeader()
  @ZodBody(emptyBody, { description: 'No body, or {}', required: false })
  @ZodResponse(200, appointmentResponse, 'The cancelled appointment')
  @Problems(400, 404, 409, 413, 415)
  async cancel(@Caller() caller: Principal, @Param('appointmentId') idParam: string, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined, @Res({ passthrough: true }) res: FastifyReply) {
    return this.command(caller, idParam, 'cancel', 'appointments.cancel', parseRequest(emptyBody, body ?? {}), key, res, (allowed): CancelAppointmentRequest => ({ by: actorOf(allowed) }));
  }

  @Post(':appointmentId/reschedule')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reschedule',
    description: 'Moves a CONFIRMED appointment to another free slot of its provider. Client (CLIENT policy), provider or admin/service account (PROVIDER policy: free). ' + OWN,
  })
  @UuidParam('appointmentId', 'The appointment')
  @IdempotencyKeyHeader()
  @ZodBody(publicRescheduleRequest)
  @ZodResponse(200, appointmentResponse, 'The rescheduled appointment')
  @Problems(400, 404, 409, 413, 415, 422)
  async reschedule(@Caller() caller: Principal, @Param('appointmentId') idParam: string, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined, @Res({ passthrough: true }) res: FastifyReply) {
    const request = parseRequest(publicRescheduleRequest, body);
    return this.command(caller, idParam, 'reschedule', 'appointments.reschedule', request, key, res, (allowed): RescheduleAppointmentRequest => ({ start: request.start, by: actorOf(allowed) }));
  }

  @Post(':appointmentId/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark completed', description: 'The provider or an admin/service account, once the appointment has started. ' + OWN })
  @UuidParam('appointmentId', 'The appointment')
  @IdempotencyKeyHeader()
  @ZodBody(emptyBody, { description: 'No body, or {}', required: false })
  @ZodResponse(200, appointmentResponse, 'The completed appointment')
  @Problems(400, 403, 404, 409, 413, 415)
  async complete(@Caller() caller: Principal, @Param('appointmentId') idParam: string, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined, @Res({ passthrough: true }) res: FastifyReply) {
    return this.command(caller, idParam, 'complete', 'appointments.complete', parseRequest(emptyBody, body ?? {}), key, res);
  }

  @Post(':appointmentId/no-show')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a no-show', description: 'The provider or an admin/service account, once the appointment has started. ' + OWN })
  @UuidParam('appointmentId', 'The appointment')
  @IdempotencyKeyHeader()
  @ZodBody(emptyBody, { description: 'No body, or {}', required: false })
  @ZodResponse(200, appointmentResponse, 'The appointment marked as a no-show')
  @Problems(400, 403, 404, 409, 413, 415)
  async noShow(@Caller() caller: Principal, @Param('appointmentId') idParam: string, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined, @Res({ passthrough: true }) res: FastifyReply) {
    return this.command(caller, idParam, 'no-show', 'appointments.noShow', parseRequest(emptyBody, body ?? {}), key, res);
  }

  /** Loads the appointment (a 404 from scheduling passes through unchanged) and checks the caller may act on it. */
  private async authorized(caller: Principal, appointmentId: string, type: 'appointments.read' | CommandAction) {
    const { body: appointment } = await this.scheduling.call({ method: 'GET', path: `/appointments/${appointmentId}` }, appointmentResponse);
    const action: Action = { type, appointment };
    const allowed = enforce(authorize(caller, action), appointmentId);
    return { appointment, allowed };
  }

  private async command(
    caller: Principal,
    idParam: string,
    verb: string,
    type: CommandAction,
    request: object,
    keyHeader: string | undefined,
    res: FastifyReply,
    upstreamBody?: (allowed: Allowed) => object,
  ): Promise<AppointmentResponse> {
    const key = idempotencyKey(keyHeader);
    const appointmentId = uuidParam(idParam, 'appointmentId');
    const { allowed } = await this.authorized(caller, appointmentId, type);
    const scope = { caller: caller.subject, key, method: 'POST', path: `/v1/appointments/${appointmentId}/${verb}`, body: request };
    const outcome = await this.commands.run(scope, async () => {
      const reply = await this.scheduling.call(
        { method: 'POST', path: `/appointments/${appointmentId}/${verb}`, body: upstreamBody?.(allowed) },
        appointmentResponse,
      );
      return { status: 200, body: reply.body };
    });
    return sendOutcome<AppointmentResponse>(res, outcome);
  }
}
