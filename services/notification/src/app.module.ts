import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { PlatformModule } from '@booking/platform';
import { NotificationConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: NotificationConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: 'notification', schema: 'notification', migrations, topics: [TOPICS.appointment, TOPICS.reminder, TOPICS.notification], config }),
      ],
    };
  }
}
