import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@booking/platform';
import { ApiGatewayConfig } from './config';
import { migrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: ApiGatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: 'api-gateway', schema: 'gateway', migrations, topics: [], config }),
      ],
    };
  }
}
