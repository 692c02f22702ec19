import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { bookAppointmentRequest, cancelAppointmentRequest, listAppointmentsQuery, rescheduleAppointmentRequest } from '@booking/contracts';
import { parseRequest, ProblemError } from '@booking/platform';
import { uuidParam } from '../shared/params';
import { AppointmentsService, BookResult } from './appointments.service';
import { schedulingMetrics } from '../scheduling.metrics';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,255}$/;

@Controller('appointments')
export class AppointmentsHttpController {
  constructor(private readonly appointments: AppointmentsService) {}

  /**
   * Books a slot (PENDING until paid, CONFIRMED at once when free). With an Idempotency-Key the key is
   * recorded in the booking's own transaction; `X-Caller-Id` scopes keys per caller (set by the gateway).
   */
  @Post()
  async book(
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Headers('x-caller-id') caller: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    let result: BookResult;
    try {
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw new ProblemError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 . _ : -');
      }
      const request = parseRequest(bookAppointmentRequest, body);
      result = await this.appointments.book(request, key ? { key, caller: caller ?? 'anonymous' } : undefined);
    } catch (error) {
      schedulingMetrics.bookingsRefused.inc({ code: error instanceof ProblemError ? error.code : 'INTERNAL_ERROR' });
      throw error;
    }
    if (!result.replayed) schedulingMetrics.bookingsCreated.inc();
    res.status(result.status);
    if (result.replayed) res.header('Idempotent-Replayed', 'true');
    res.header('Location', `/appointments/${result.body.id}`);
    return result.body;
  }

  @Get()
  async list(@Query() query: unknown) {
    return this.appointments.list(parseRequest(listAppointmentsQuery, query, 'query'));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return this.appointments.get(uuidParam(id, 'id'));
  }

  @Get(':id/events')
  async history(@Param('id') id: string) {
    return { items: await this.appointments.history(uuidParam(id, 'id')) };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  async cancel(@Param('id') id: string, @Body() body: unknown) {
    const appointmentId = uuidParam(id, 'id');
    const { by } = parseRequest(cancelAppointmentRequest, body ?? {});
    await this.appointments.execute(appointmentId, (at) => ({
      type: 'CancelAppointment',
      appointmentId,
      by,
      reason: by === 'CLIENT' ? 'CLIENT_REQUEST' : 'PROVIDER_REQUEST',
      at,
    }));
    return this.appointments.get(appointmentId);
  }

  @Post(':id/reschedule')
  @HttpCode(200)
  async reschedule(@Param('id') id: string, @Body() body: unknown) {
    const appointmentId = uuidParam(id, 'id');
    const request = parseRequest(rescheduleAppointmentRequest, body);
    await this.appointments.reschedule(appointmentId, Date.parse(request.start), request.by);
    return this.appointments.get(appointmentId);
  }

  @Post(':id/complete')
  @HttpCode(200)
  async complete(@Param('id') id: string) {
    const appointmentId = uuidParam(id, 'id');
    await this.appointments.execute(appointmentId, (at) => ({ type: 'CompleteAppointment', appointmentId, at }));
    return this.appointments.get(appointmentId);
  }

  @Post(':id/no-show')
  @HttpCode(200)
  async noShow(@Param('id') id: string) {
    const appointmentId = uuidParam(id, 'id');
    await this.appointments.execute(appointmentId, (at) => ({ type: 'MarkNoShow', appointmentId, at }));
    return this.appointments.get(appointmentId);
  }
}
