import { DynamicModule, Module } from '@nestjs/common';
import { TOPICS } from '@booking/contracts';
import { Platform, PlatformModule } from '@booking/platform';
import { AppointmentEventsKafkaController } from './appointment-events.kafka.controller';
import { ChargeAppointmentHandler } from './charge-appointment/charge-appointment.handler';
import { ProcessingChargesPoller } from './charge-appointment/processing-charges.poller';
import { PAYMENT_CONFIG, PaymentConfig } from './config';
import { GetPaymentsHttpController } from './get-payments/get-payments.http.controller';
import { IssueCreditHandler } from './issue-credit/issue-credit.handler';
import { migrations } from './migrations';
import { PaymentRepository } from './payments/payment.repository';
import { KnexGatewayStore } from './provider/knex-gateway-store';
import { PAYMENT_PROVIDER } from './provider/payment-provider';
import { SimulatedPaymentProvider } from './provider/simulated-payment-provider';
import { RefundPaymentHandler } from './refund-payment/refund-payment.handler';
import { PAYMENT_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: PaymentConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'payment',
          schema: PAYMENT_SCHEMA,
          migrations,
          topics: [TOPICS.appointment, TOPICS.payment],
          config,
          poolMax: config.DB_POOL_MAX,
        }),
      ],
      controllers: [GetPaymentsHttpController],
      providers: [
        { provide: PAYMENT_CONFIG, useValue: config },
        {
          // The only gateway adapter today is the simulated one; a real one implements the same port.
          provide: PAYMENT_PROVIDER,
          inject: [Platform],
          useFactory: (platform: Platform) =>
            new SimulatedPaymentProvider(new KnexGatewayStore(platform.knex, PAYMENT_SCHEMA), {
              latencyMs: config.PAYMENT_PROVIDER_LATENCY_MS,
              delayedSuccessMs: config.PAYMENT_DELAYED_SUCCESS_MS,
            }),
        },
        PaymentRepository,
        ChargeAppointmentHandler,
        RefundPaymentHandler,
        IssueCreditHandler,
        AppointmentEventsKafkaController,
        ProcessingChargesPoller,
      ],
    };
  }
}
