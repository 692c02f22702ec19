import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { PlatformModule } from '@booking/platform';
import { SchedulingConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: SchedulingConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: 'scheduling', schema: 'scheduling', migrations, topics: [TOPICS.appointment, TOPICS.provider, TOPICS.payment], config }),
      ],
    };
  }
}
