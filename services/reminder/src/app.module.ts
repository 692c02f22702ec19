import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { PlatformModule } from '@booking/platform';
import { AppointmentEventsHandler } from './appointment-events/appointment-events.handler';
import { Clock, SystemClock } from './clock';
import { REMINDER_CONFIG, ReminderConfig } from './config';
import { DeliveryOutcomeHandler } from './delivery-outcome/delivery-outcome.handler';
import { ReminderDispatcher } from './dispatch/reminder-dispatcher';
import { ReminderWorkers } from './dispatch/reminder-workers';
import { ListRemindersHttpController } from './list-reminders/list-reminders.http.controller';
import { migrations } from './migrations';
import { ReminderEventsKafkaController } from './reminder-events.kafka.controller';
import { RemindersRepository } from './reminders/reminders.repository';
import { ReminderBacklogMetric } from './reminder.metrics';

@Module({})
export class AppModule {
  static forRoot(config: ReminderConfig, clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'reminder',
          schema: 'reminder',
          migrations,
          topics: [TOPICS.appointment, TOPICS.reminder, TOPICS.notification],
          config,
          // Each dispatch loop holds one connection during its claim; consumers, relay and HTTP share the rest.
          poolMax: config.REMINDER_WORKERS + 6,
        }),
      ],
      controllers: [ListRemindersHttpController],
      providers: [
        { provide: REMINDER_CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
        RemindersRepository,
        AppointmentEventsHandler,
        DeliveryOutcomeHandler,
        ReminderEventsKafkaController,
        ReminderDispatcher,
        ReminderWorkers,
        ReminderBacklogMetric,
      ],
    };
  }
}
