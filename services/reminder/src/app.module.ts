import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { PlatformModule } from '@booking/platform';
import { ReminderConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: ReminderConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: 'reminder', schema: 'reminder', migrations, topics: [TOPICS.appointment, TOPICS.reminder, TOPICS.notification], config }),
      ],
    };
  }
}
