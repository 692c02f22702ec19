import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { appendToOutbox, OutgoingEvent } from '@booking/platform';
import { ChannelName } from '../channels/channel';
import { RecipientRole } from '../rendering/message';
import { NotifiableEvent } from './notifiable-event';
import { PlannedDelivery } from './plan-deliveries';

export type DeliveryStatus = 'PENDING' | 'SENDING' | 'SENT' | 'FAILED';

export type DeliveryRow = {
  id: string;
  source_event_id: string;
  source_event_type: string;
  appointment_id: string;
  reminder_id: string | null;
  recipient_role: RecipientRole;
  channel: ChannelName;
  address: string | null;
  status: DeliveryStatus;
  attempts: number;
  claim_token: string | null;
  lease_expires_at: Date | null;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
};

/** The right to send one delivery until the lease runs out; `takeover` when an earlier holder's lease ran out. */
export type Claim = { id: string; token: string; attempts: number; takeover: boolean };

export type ClaimResult = { kind: 'claimed'; claim: Claim } | { kind: 'finished' } | { kind: 'busy' };

/**
 * The delivery log. Every state change is a short transaction of its own — no transaction is held open
 * while a provider is being called — and outcomes are written with their outbox event in one
 * transaction, guarded by the claim token so only the current lease holder records one.
 */
export class DeliveriesRepository {
  constructor(
    private readonly knex: Knex,
    private readonly schema: string,
  ) {}

  private table(db: Knex | Knex.Transaction = this.knex) {
    return db.withSchema(this.schema).table<DeliveryRow>('deliveries');
  }

  /** Creates the rows of an event's deliveries once; a redelivered event finds the existing ones. */
  async register(event: NotifiableEvent, planned: readonly PlannedDelivery[]): Promise<DeliveryRow[]> {
    await this.table()
      .insert(
        planned.map((p) => ({
          id: randomUUID(),
          source_event_id: event.eventId,
          source_event_type: event.type,
          appointment_id: event.data.appointmentId,
          reminder_id: event.type === 'ReminderDue' ? event.data.reminderId : null,
          recipient_role: p.role,
          channel: p.channel,
          address: p.address,
        })),
      )
      .onConflict(['source_event_id', 'recipient_role', 'channel'])
      .ignore();
    return this.table().where({ source_event_id: event.eventId });
  }

  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    return this.knex.transaction(async (trx) => {
      const row = (await this.table(trx)
        .where({ id })
        .forUpdate()
        .first('status', trx.raw('lease_expires_at <= now() AS lease_expired'))) as { status: DeliveryStatus; lease_expired: boolean | null } | undefined;
      if (!row) throw new Error(`delivery ${id} does not exist`);
      if (row.status === 'SENT' || row.status === 'FAILED') return { kind: 'finished' };
      if (row.status === 'SENDING' && !row.lease_expired) return { kind: 'busy' };
      const token = randomUUID();
      const [claimed] = await this.table(trx)
        .where({ id })
        .update({
          status: 'SENDING',
          attempts: trx.raw('attempts + 1'),
          claim_token: token,
          lease_expires_at: trx.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]),
          updated_at: trx.fn.now(),
        })
        .returning(['attempts']);
      return { kind: 'claimed', claim: { id, token, attempts: claimed.attempts, takeover: row.status === 'SENDING' } };
    });
  }

  /** Returns false when the lease had already passed to another instance, which then records the outcome. */
  async markSent(claim: Claim, providerMessageId: string, event: OutgoingEvent): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const updated = await this.table(trx)
        .where({ id: claim.id, claim_token: claim.token, status: 'SENDING' })
        .update({
          status: 'SENT',
          claim_token: null,
          lease_expires_at: null,
          provider_message_id: providerMessageId,
          completed_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        });
      if (updated === 0) return false;
      await appendToOutbox(trx, this.schema, [event]);
      return true;
    });
  }

  /** Marks FAILED: by the lease holder (`token`), or without a send for a delivery still PENDING (`token` null). */
  async markFailed(target: { id: string; token: string | null }, error: string, event: OutgoingEvent): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const updated = await this.table(trx)
        .where(target.token ? { id: target.id, claim_token: target.token, status: 'SENDING' } : { id: target.id, status: 'PENDING' })
        .update({
          status: 'FAILED',
          claim_token: null,
          lease_expires_at: null,
          last_error: error,
          completed_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        });
      if (updated === 0) return false;
      await appendToOutbox(trx, this.schema, [event]);
      return true;
    });
  }

  /** A transient failure: back to PENDING for the next attempt. */
  async release(claim: Claim, error: string): Promise<void> {
    await this.table()
      .where({ id: claim.id, claim_token: claim.token, status: 'SENDING' })
      .update({ status: 'PENDING', claim_token: null, lease_expires_at: null, last_error: error, updated_at: this.knex.fn.now() });
  }

  async forEvent(sourceEventId: string): Promise<DeliveryRow[]> {
    return this.table().where({ source_event_id: sourceEventId }).orderBy(['recipient_role', 'channel']);
  }
}
