import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { PlatformModule } from '@booking/platform';
import { AdminHttpController } from './admin.http.controller';
import { AppointmentsHttpController } from './appointments/appointments.http.controller';
import { AppointmentsService } from './appointments/appointments.service';
import { HoldExpiryJob } from './appointments/hold-expiry.job';
import { IdempotencyKeySweepJob } from './appointments/idempotency-key-sweep.job';
import { PaymentEventsKafkaController } from './appointments/payment-events.kafka.controller';
import { AvailabilityFeed, AvailabilityFeedHttpController } from './availability/availability-feed.http.controller';
import { AvailabilityWatch } from './availability/availability-watch';
import { SlotsService } from './availability/slots.service';
import { SCHEDULING_CONFIG, SchedulingConfig } from './config';
import { migrations } from './migrations';
import { ProvidersHttpController } from './providers/providers.http.controller';
import { ProvidersService } from './providers/providers.service';
import { Clock, SystemClock } from './shared/clock';
import { EventStore } from './shared/event-store';

@Module({})
export class AppModule {
  static forRoot(config: SchedulingConfig, clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'scheduling',
          schema: 'scheduling',
          migrations,
          topics: [TOPICS.appointment, TOPICS.provider, TOPICS.payment],
          config,
          poolMax: config.DB_POOL_MAX,
          // Bookings and every other write go through the outbox: a broker outage is no reason to stop serving.
          kafka: 'degraded',
        }),
      ],
      controllers: [ProvidersHttpController, AppointmentsHttpController, AdminHttpController, AvailabilityFeedHttpController],
      providers: [
        { provide: SCHEDULING_CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
        EventStore,
        AvailabilityWatch,
        AvailabilityFeed,
        ProvidersService,
        SlotsService,
        AppointmentsService,
        PaymentEventsKafkaController,
        HoldExpiryJob,
        IdempotencyKeySweepJob,
      ],
    };
  }
}
