import { Knex } from 'knex';
import { uuidv7 } from '@booking/platform';
import { CHANNELS } from '../reminders/reminder-status';
import { clientContact, providerContact } from './fixtures';

export type SeedOptions = {
  /** Reminders to create, spread over appointments of `perAppointment` reminders each (1..6). */
  count: number;
  perAppointment: number;
  /** Fire time of the i-th reminder. */
  fireAt: (index: number) => Date;
};

const KINDS = CHANNELS.flatMap((channel) => [1440, 60].map((offsetMinutes) => ({ channel, offsetMinutes })));

/**
 * Writes confirmed appointments and SCHEDULED reminders straight into the reminder schema, the state
 * the Confirmed handler leaves, so tests and the benchmark can have thousands due without sending
 * thousands of events. Ids are time-ordered, as the services make them. Returns the reminder ids.
 */
export async function seedScheduledReminders(knex: Knex, options: SeedOptions): Promise<string[]> {
  const appointments: Record<string, unknown>[] = [];
  const reminders: Record<string, unknown>[] = [];
  for (let i = 0; i < options.count; i++) {
    const kind = KINDS[i % options.perAppointment];
    const fireAt = options.fireAt(i);
    if (i % options.perAppointment === 0) {
      const start = new Date(fireAt.getTime() + kind.offsetMinutes * 60_000);
      appointments.push({
        appointment_id: uuidv7(),
        version: 2,
        status: 'CONFIRMED',
        start_time: start,
        end_time: new Date(start.getTime() + 30 * 60_000),
        client: clientContact,
        provider: providerContact,
      });
    }
    reminders.push({
      reminder_id: uuidv7(),
      appointment_id: appointments[appointments.length - 1].appointment_id,
      appointment_version: 2,
      channel: kind.channel,
      offset_minutes: kind.offsetMinutes,
      fire_at: fireAt,
      status: 'SCHEDULED',
    });
  }
  await knex.batchInsert('appointments', appointments, 1000);
  await knex.batchInsert('reminders', reminders, 1000);
  return reminders.map((r) => r.reminder_id as string);
}
