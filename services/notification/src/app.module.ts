import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { Platform, PlatformModule } from '@booking/platform';
import { createChannels } from './channels/create-channels';
import { mailboxOf, NotificationConfig } from './config';
import { DeliveriesRepository } from './deliveries/deliveries.repository';
import { NotifyHandler } from './deliveries/notify.handler';
import { migrations } from './migrations';
import { NOTIFICATION_CONFIG, NotificationKafkaController } from './notification.kafka.controller';

/** Where to start reading: the consumer (notification.kafka.controller.ts) hands events to NotifyHandler. */
@Module({})
export class AppModule {
  static forRoot(config: NotificationConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'notification',
          schema: 'notification',
          migrations,
          topics: [TOPICS.appointment, TOPICS.reminder, TOPICS.notification],
          config,
          poolMax: config.DB_POOL_MAX,
        }),
      ],
      providers: [
        { provide: NOTIFICATION_CONFIG, useValue: config },
        {
          provide: NotifyHandler,
          inject: [Platform],
          useFactory: (platform: Platform) =>
            new NotifyHandler(new DeliveriesRepository(platform.knex, platform.schema), createChannels(config), {
              maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
              leaseMs: config.NOTIFY_LEASE_MS,
              compose: { organizer: mailboxOf(config.MAIL_FROM) },
            }, platform.logger),
        },
        NotificationKafkaController,
      ],
    };
  }
}

