import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Envelope, TOPICS } from '@booking/contracts';
import { inSpan, OutgoingEvent } from '@booking/platform';
import { Channels, DeliveryError, OutgoingMessage, SendResult } from '../channels/channel';
import { composeMessage, ComposeSettings } from './compose-message';
import { Claim, DeliveriesRepository, DeliveryRow } from './deliveries.repository';
import { asNotifiable, NotifiableEvent } from './notifiable-event';
import { notificationMetrics } from '../notification.metrics';
import { PlannedDelivery, planDeliveries } from './plan-deliveries';

export type NotifySettings = {
  /** Attempts per delivery on transient failures; the last one failing marks it FAILED. */
  maxAttempts: number;
  leaseMs: number;
  compose: ComposeSettings;
};

/** Some deliveries of an event are not finished yet; the consumer runs the event again after a backoff. */
export class DeliveriesPendingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveriesPendingError';
  }
}

type Outcome = 'finished' | 'retry' | 'busy';

const MAX_EVENT_ERROR = 2000;
const ADDRESS_WORD = { EMAIL: 'email address', SMS: 'phone number', PUSH: 'push endpoint' } as const;

/**
 * Notifies the people an event concerns: one delivery per (event, recipient, channel), each claimed,
 * sent and recorded on its own, so a redelivered event sends only what is not SENT or FAILED yet.
 *
 * What is exactly-once and what is not: the claim (a lease on the row) stops two instances from
 * sending the same delivery at the same time, and SENT is recorded — with its NotificationSent in the
 * outbox — the moment the provider accepts. What remains is at-least-once: if the process dies, or
 * Postgres stays unreachable, between the provider accepting and that commit, the lease runs out and
 * the delivery is sent again. Providers' answers that never arrive (a timeout after the provider took
 * the message) are the same window. Each message carries the delivery id (email Message-ID, push
 * X-Booking-Delivery-Id) so receivers can drop such a duplicate; SMS has no such key at Twilio.
 */
export class NotifyHandler {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly channels: Channels,
    private readonly settings: NotifySettings,
    private readonly logger: Logger,
  ) {}

  async handle(envelope: Envelope): Promise<void> {
    const event = asNotifiable(envelope);
    if (!event) return;
    const planned = planDeliveries(event);
    if (planned.length === 0) return;
    const rows = new Map((await this.deliveries.register(event, planned)).map((row) => [`${row.recipient_role}/${row.channel}`, row]));
    // allSettled: the next run of this event must not start while a send of this one is still going.
    const settled = await Promise.allSettled(
      planned.map(async (p) => {
        const row = rows.get(`${p.role}/${p.channel}`);
        if (!row) throw new Error(`delivery ${p.role}/${p.channel} of ${event.eventId} was not registered`);
        return inSpan(`deliver ${p.channel}`, { 'notification.channel': p.channel, 'notification.recipient_role': p.role }, () => this.deliver(event, p, row));
      }),
    );
    const crashed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (crashed) throw crashed.reason;
    const outcomes = settled.map((s) => (s as PromiseFulfilledResult<Outcome>).value);
    const unfinished = outcomes.filter((o) => o !== 'finished');
    if (unfinished.length > 0) {
      throw new DeliveriesPendingError(
        `${event.type} ${event.eventId}: ${unfinished.length} of ${planned.length} deliveries unfinished ` +
          `(${outcomes.filter((o) => o === 'retry').length} to retry, ${outcomes.filter((o) => o === 'busy').length} held by another attempt)`,
      );
    }
  }

  private async deliver(event: NotifiableEvent, planned: PlannedDelivery, row: DeliveryRow): Promise<Outcome> {
    if (row.status === 'SENT' || row.status === 'FAILED') return 'finished';
    const log = this.logger.child({ deliveryId: row.id, eventId: event.eventId, role: planned.role, channel: planned.channel });
    if (planned.address === null) {
      const reason = `the ${planned.role.toLowerCase()} has no ${ADDRESS_WORD[planned.channel]}`;
      await this.deliveries.markFailed({ id: row.id, token: null }, reason, deliveryOutcome(event, row, reason));
      notificationMetrics.deliveries.inc({ channel: planned.channel, outcome: 'failed' });
      log.warn({ reason }, 'notification failed');
      return 'finished';
    }
    // Composed before the claim: a rendering bug must not leave a lease behind.
    const message = composeMessage(event, { ...planned, address: planned.address }, row.id, this.settings.compose);
    const claimed = await this.deliveries.claim(row.id, this.settings.leaseMs);
    if (claimed.kind !== 'claimed') return claimed.kind;
    const { claim } = claimed;
    if (claim.takeover) log.warn({ attempt: claim.attempts }, 'an earlier attempt ended without an outcome; its send may have happened; sending again');

    let result: SendResult;
    try {
      result = await this.send(message);
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(`unexpected: ${(error as Error)?.message ?? error}`, false, { cause: error });
      if (failure.permanent || claim.attempts >= this.settings.maxAttempts) {
        const reason = failure.permanent ? failure.message : `gave up after ${claim.attempts} attempts: ${failure.message}`;
        await this.deliveries.markFailed({ id: row.id, token: claim.token }, reason, deliveryOutcome(event, row, reason));
        notificationMetrics.deliveries.inc({ channel: planned.channel, outcome: 'failed' });
        log.warn({ reason, attempt: claim.attempts }, 'notification failed');
        return 'finished';
      }
      await this.deliveries.release(claim, failure.message);
      log.info({ reason: failure.message, attempt: claim.attempts }, 'notification attempt failed; will retry');
      return 'retry';
    }
    const recorded = await this.recordSent(claim, result.providerMessageId, deliveryOutcome(event, row));
    notificationMetrics.deliveries.inc({ channel: planned.channel, outcome: 'sent' });
    if (!recorded) log.warn('sent after the lease had passed to another attempt, which may send it again');
    else log.info({ providerMessageId: result.providerMessageId, attempt: claim.attempts }, 'notification sent');
    return 'finished';
  }

  private send(message: OutgoingMessage): Promise<SendResult> {
    switch (message.channel) {
      case 'EMAIL':
        return this.channels.EMAIL.send(message);
      case 'SMS':
        return this.channels.SMS.send(message);
      case 'PUSH':
        return this.channels.PUSH.send(message);
    }
  }

  /**
   * The message is out; a failure to record that is what would send it twice. A brief database hiccup
   * is retried here, where the claim is still ours, rather than by redelivery after the lease ran out.
   */
  private async recordSent(claim: Claim, providerMessageId: string, event: OutgoingEvent): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deliveries.markSent(claim, providerMessageId, event);
      } catch (error) {
        if (attempt >= 3) throw error;
        this.logger.warn({ err: error, deliveryId: claim.id, attempt }, 'recording a sent notification failed; retrying');
        await sleep(100 * attempt);
      }
    }
  }
}

/** NotificationSent, or NotificationFailed with the error, for one delivery of a source event. */
export function deliveryOutcome(event: NotifiableEvent, row: DeliveryRow, error?: string): OutgoingEvent {
  return {
    topic: TOPICS.notification,
    type: error === undefined ? 'NotificationSent' : 'NotificationFailed',
    aggregateId: event.data.appointmentId,
    aggregateVersion: event.aggregateVersion,
    data: {
      deliveryId: row.id,
      sourceEventId: event.eventId,
      sourceEventType: event.type,
      appointmentId: event.data.appointmentId,
      reminderId: event.type === 'ReminderDue' ? event.data.reminderId : null,
      recipientRole: row.recipient_role,
      channel: row.channel,
      ...(error !== undefined && { error: error.slice(0, MAX_EVENT_ERROR) }),
    },
  };
}
