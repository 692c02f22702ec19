import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Envelope, EventData, TOPICS } from '@booking/contracts';
import { AppointmentCommand } from '@booking/appointment-domain';
import { claimInbox, EventHandler, eventCorrelation, PermanentEventError, Platform, ProblemError } from '@booking/platform';
import { AppointmentsService } from './appointments.service';

const INBOX_CONSUMER = 'scheduling.payment-outcomes';

/** The event types this consumer reads (its contract tests read every sample of each). */
export const PAYMENT_OUTCOMES = ['PaymentSucceeded', 'PaymentFailed'] as const;

type Outcome = { appointmentId: string; answers: string; command: (at: string) => AppointmentCommand };


/** PaymentSucceeded → confirm (or a refund request if the hold already expired). */
function confirmation(event: Envelope): Outcome {
  const data = event.data as EventData<'PaymentSucceeded'>;
  return {
    appointmentId: data.appointmentId,
    answers: data.requestEventId,
    command: (at) => ({ type: 'ConfirmAppointment', appointmentId: data.appointmentId, paymentId: data.paymentId, amountMinor: data.amountMinor, currency: data.currency, at }),
  };
}

/** PaymentFailed → cancel with PAYMENT_FAILED. */
function failure(event: Envelope): Outcome {
  const data = event.data as EventData<'PaymentFailed'>;
  return {
    appointmentId: data.appointmentId,
    answers: data.requestEventId,
    command: (at) => ({ type: 'FailPayment', appointmentId: data.appointmentId, paymentId: data.paymentId, reason: data.reason, at }),
  };
}

/**
 * Payment outcomes move appointments: PaymentSucceeded → confirm (or a refund request if the hold
 * already expired), PaymentFailed → cancel with PAYMENT_FAILED. The inbox row, the events and the
 * projection share one transaction, so a redelivered outcome has no second effect.
 *
 * An outcome is trusted only as far as it matches what this service knows: it must answer the
 * appointment's own AppointmentRequested (`requestEventId`), and a success must be of exactly the
 * appointment's price and currency. Anything else (forged, misrouted, of another amount) is
 * dead-lettered with the reason, and the appointment keeps waiting for its real outcome or its hold's
 * expiry.
 *
 * Outcomes arriving together are applied in one transaction of five statements however many there
 * are (begin, inbox claim, lock and read, one write of events, projection rows and outbox, commit): on
 * a busy event loop every round trip waits its turn, so the count of round trips, not the SQL, sets
 * how fast confirmations keep up. If any of them fails, the consumer applies them one by one instead, each in its own transaction, so a bad
 * one is dead-lettered alone. Outcomes of different appointments of one partition run side by side;
 * one appointment's outcomes stay in order. Their transactions use the platform's consumer pool, so a
 * burst of booking requests holding every connection of the main pool does not hold up confirmations.
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
      keyConcurrency: 4,
      handlers: {
        PaymentSucceeded: (event) => this.apply(event, confirmation),
        PaymentFailed: (event) => this.apply(event, failure),
      } satisfies Record<(typeof PAYMENT_OUTCOMES)[number], EventHandler>,
      batchHandlers: {
        PaymentSucceeded: (events) => this.applyAll(events, confirmation),
        PaymentFailed: (events) => this.applyAll(events, failure),
      },
    });
  }

  /** One outcome: the inbox row and its effect in one transaction. */
  private async apply(event: Envelope, outcome: (event: Envelope) => Outcome): Promise<void> {
    try {
      await this.applyAll([event], outcome);
    } catch (error) {
      // An outcome for an appointment we do not know, or one the lifecycle refuses, will not get
      // better with retries: dead-letter it for a person to look at.
      if (error instanceof ProblemError && error.getStatus() < 500) throw new PermanentEventError(error.message);
      throw error;
    }
  }

  /**
   * A run of outcomes (distinct appointments) in one transaction of a fixed number of statements —
   * inbox claim, lock and read, write — however long the run; any error undoes all of it.
   */
  private async applyAll(events: Envelope[], outcome: (event: Envelope) => Outcome): Promise<void> {
    const { consumerKnex, schema } = this.platform;
    // The confirmations leave through this instance's relay, woken once they commit, when it is the active one.
    await this.platform.writeOutbox((notify) =>
      consumerKnex.transaction(async (trx) => {
        const fresh = await claimInbox(trx, schema, INBOX_CONSUMER, events);
        await this.appointments.executeMany(
          trx,
          fresh.map((event) => ({ ...outcome(event), correlation: eventCorrelation(event) })),
          { notify },
        );
      }),
    );
  }
}
