import { Controller, Get, Query } from '@nestjs/common';
import { parseRequest } from '@booking/platform';
import { RemindersRepository } from '../reminders/reminders.repository';
import { listRemindersQuery } from './list-reminders.request';

@Controller('reminders')
export class ListRemindersHttpController {
  constructor(private readonly reminders: RemindersRepository) {}

  /** Every reminder of one appointment, in fire order, whatever its status (an unknown id lists none). */
  @Get()
  async list(@Query() query: unknown) {
    const { appointmentId } = parseRequest(listRemindersQuery, query, 'query');
    return { appointmentId, reminders: await this.reminders.listByAppointment(appointmentId) };
  }
}
