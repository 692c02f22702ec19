import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { PlatformModule } from '@booking/platform';
import { PaymentConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: PaymentConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: 'payment', schema: 'payment', migrations, topics: [TOPICS.appointment, TOPICS.payment], config }),
      ],
    };
  }
}
