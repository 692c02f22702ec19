import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EventData, TOPICS } from '@booking/contracts';
import { handleOnce, PermanentEventError, Platform, ProblemError } from '@booking/platform';
import { AppointmentsService } from './appointments.service';

/**
 * Payment outcomes move appointments: PaymentSucceeded → confirm (or a refund request if the hold
 * already expired), PaymentFailed → cancel with PAYMENT_FAILED. The inbox row, the events and the
 * projection share one transaction, so a redelivered outcome has no second effect.
 */
@Injectable()
export class PaymentEventsKafkaController implements OnApplicationBootstrap {
  constructor(
    @Inject(Platform) private readonly platform: Platform,
    private readonly appointments: AppointmentsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { knex, schema } = this.platform;
    const run = (event: Parameters<typeof handleOnce>[3], effect: Parameters<typeof handleOnce>[4]) =>
      handleOnce(knex, schema, 'scheduling.payment-outcomes', event, async (trx) => {
        try {
          await effect(trx);
        } catch (error) {
          // An outcome for an appointment we do not know, or one the lifecycle refuses, will not get
          // better with retries: dead-letter it for a person to look at.
          if (error instanceof ProblemError && error.getStatus() < 500) throw new PermanentEventError(error.message);
          throw error;
        }
      });
    await this.platform.consume({
      groupId: 'scheduling',
      topics: [TOPICS.payment],
      handlers: {
        PaymentSucceeded: async (event) => {
          const data = event.data as EventData<'PaymentSucceeded'>;
          await run(event, async (trx) => {
            await this.appointments.execute(
              data.appointmentId,
              (at) => ({ type: 'ConfirmAppointment', appointmentId: data.appointmentId, paymentId: data.paymentId, amountMinor: data.amountMinor, at }),
              trx,
            );
          });
        },
        PaymentFailed: async (event) => {
          const data = event.data as EventData<'PaymentFailed'>;
          await run(event, async (trx) => {
            await this.appointments.execute(
              data.appointmentId,
              (at) => ({ type: 'FailPayment', appointmentId: data.appointmentId, paymentId: data.paymentId, reason: data.reason, at }),
              trx,
            );
          });
        },
      },
    });
  }
}
