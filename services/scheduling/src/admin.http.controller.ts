import { Controller, HttpCode, Post } from '@nestjs/common';
import { AppointmentsService } from './appointments/appointments.service';

@Controller('admin')
export class AdminHttpController {
  constructor(private readonly appointments: AppointmentsService) {}

  /** Rebuilds the appointments projection from the event store. */
  @Post('projections/rebuild')
  @HttpCode(200)
  async rebuild() {
    return { streams: await this.appointments.rebuildProjections() };
  }
}
