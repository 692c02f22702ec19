import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Envelope, EventData, TOPICS } from '@booking/contracts';
import { AppointmentCommand } from '@booking/appointment-domain';
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
    await this.platform.consume({
      groupId: 'scheduling',
      topics: [TOPICS.payment],
      handlers: {
        PaymentSucceeded: (event) => {
          const data = event.data as EventData<'PaymentSucceeded'>;
          return this.apply(event, data.appointmentId, (at) => ({
            type: 'ConfirmAppointment',
            appointmentId: data.appointmentId,
            paymentId: data.paymentId,
            amountMinor: data.amountMinor,
            at,
          }));
        },
        PaymentFailed: (event) => {
          const data = event.data as EventData<'PaymentFailed'>;
          return this.apply(event, data.appointmentId, (at) => ({
            type: 'FailPayment',
            appointmentId: data.appointmentId,
            paymentId: data.paymentId,
            reason: data.reason,
            at,
          }));
        },
      },
    });
  }

  /** Runs the outcome's command once per event, in the inbox transaction. */
  private async apply(event: Envelope, appointmentId: string, command: (at: string) => AppointmentCommand): Promise<void> {
    const { knex, schema } = this.platform;
    await handleOnce(knex, schema, 'scheduling.payment-outcomes', event, async (trx) => {
      try {
        await this.appointments.execute(appointmentId, command, trx);
      } catch (error) {
        // An outcome for an appointment we do not know, or one the lifecycle refuses, will not get
        // better with retries: dead-letter it for a person to look at.
        if (error instanceof ProblemError && error.getStatus() < 500) throw new PermanentEventError(error.message);
        throw error;
      }
    });
  }
}
