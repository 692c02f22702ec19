import { Knex } from 'knex';
import { Envelope } from '@booking/contracts';
import { appendToOutbox, buildEnvelope, currentTraceparent, eventCorrelation, OutgoingEvent, outboxChannel, query, quoteIdent, withCorrelation } from '@booking/platform';
import { ChargeResult } from '../provider/payment-provider';
import { paymentFailed, paymentSucceeded } from '../payments/payment-events';
import { Payment, PaymentStatus } from '../payments/payment';
import { PaymentRepository } from '../payments/payment.repository';
import { PAYMENT_SCHEMA } from '../schema';
import { paymentMetrics } from '../payment.metrics';

/** What came of charging: the gateway's answer, or none at all after every attempt timed out. */
export type ChargeOutcome = ChargeResult | { status: 'timed_out' };

type Transition = {
  to: Pick<Payment, 'status' | 'providerRef' | 'failureReason'>;
  /** The event a final outcome emits, about the payment as moved (its version raised by one). */
  emit?: (moved: Payment) => OutgoingEvent;
};

/** Where an outcome moves a payment, and the event scheduling waits for if the outcome is final. */
function transitionOf(outcome: ChargeOutcome): Transition {
  switch (outcome.status) {
    case 'succeeded':
      return { to: { status: 'SUCCEEDED', providerRef: outcome.providerRef, failureReason: null }, emit: paymentSucceeded };
    case 'failed':
      return { to: { status: 'FAILED', providerRef: outcome.providerRef, failureReason: outcome.reason }, emit: paymentFailed };
    case 'processing':
      return { to: { status: 'PROCESSING', providerRef: outcome.providerRef, failureReason: null } };
    case 'timed_out':
      // No PaymentFailed: without an answer we cannot say the card was declined. The appointment is
      // left to its hold, which expires in scheduling and frees the slot; the poller keeps asking the
      // gateway, in case it captured the money and only the answer was lost.
      return { to: { status: 'TIMED_OUT', providerRef: null, failureReason: 'provider_timeout' } };
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown charge outcome ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Records the outcome on the payment and, for a final one, the event scheduling waits for — in the
 * caller's transaction. Only a payment still in `from` moves, so a racing writer emits nothing.
 */
export async function recordChargeOutcome(
  trx: Knex.Transaction,
  payments: PaymentRepository,
  payment: Payment,
  from: PaymentStatus,
  outcome: ChargeOutcome,
): Promise<Payment | undefined> {
  const { to, emit } = transitionOf(outcome);
  const moved = await payments.transition(trx, payment.id, from, to, emit !== undefined);
  if (moved && emit) await appendToOutbox(trx, PAYMENT_SCHEMA, [emit(moved)]);
  return moved;
}

/** One charge request's result, to be recorded with its inbox row. No outcome: the payment already had one. */
export type ChargeRecord = { event: Envelope; payment: Payment; outcome?: ChargeOutcome };

/**
 * The consumer's way to record charges: for every request, its inbox row, the payment's move from
 * PENDING and the event that move emits — all requests in one statement, so one transaction and one
 * round trip. A redelivered event finds its inbox row and changes nothing; a payment no longer PENDING
 * (a racing delivery got there first) does not move and emits nothing; a request without an outcome
 * writes only its inbox row. The requests must be of distinct payments. Resolves to the ids of the
 * events it recorded (the others had been handled before). `notify: false` leaves out the relay's
 * NOTIFY, for a caller that wakes the relay itself (`Platform.writeOutbox`).
 */
export async function recordChargeOutcomes(knex: Knex, consumer: string, records: readonly ChargeRecord[], notify = true): Promise<Set<string>> {
  if (records.length === 0) return new Set();
  const table = (name: string) => `${quoteIdent(PAYMENT_SCHEMA)}.${name}`;
  const columns = {
    event_id: [] as string[],
    event_type: [] as string[],
    payment_id: [] as string[],
    status: [] as (string | null)[],
    provider_ref: [] as (string | null)[],
    failure_reason: [] as (string | null)[],
    bump: [] as number[],
    out_event_id: [] as (string | null)[],
    out_topic: [] as (string | null)[],
    out_key: [] as (string | null)[],
    out_type: [] as (string | null)[],
    out_payload: [] as (string | null)[],
    out_trace: [] as (string | null)[],
  };
  for (const { event, payment, outcome } of records) {
    const { to, emit } = outcome ? transitionOf(outcome) : { to: undefined, emit: undefined };
    // The event is built from the payment as it will be once moved; its version is then taken from
    // the row the update actually wrote, so the envelope can never disagree with the table.
    const outgoing = to && emit ? emit({ ...payment, ...to, version: payment.version + 1 }) : undefined;
    const envelope = outgoing && withCorrelation(eventCorrelation(event), () => buildEnvelope(outgoing));
    columns.event_id.push(event.eventId);
    columns.event_type.push(event.type);
    columns.payment_id.push(payment.id);
    columns.status.push(to?.status ?? null);
    columns.provider_ref.push(to?.providerRef ?? null);
    columns.failure_reason.push(to?.failureReason ?? null);
    columns.bump.push(emit ? 1 : 0);
    columns.out_event_id.push(envelope?.eventId ?? null);
    columns.out_topic.push(outgoing?.topic ?? null);
    columns.out_key.push(envelope?.aggregateId ?? null);
    columns.out_type.push(envelope?.type ?? null);
    columns.out_payload.push(envelope ? JSON.stringify(envelope) : null);
    columns.out_trace.push(envelope ? withCorrelation(eventCorrelation(event), currentTraceparent) : null);
  }
  // Prepared once per connection: every charge runs it.
  const { rows } = await query<{ claimed: string[] | null }>(knex, {
    name: 'payment.record-charge-outcomes.v3',
    text: `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::text[])
         AS i(event_id, event_type, payment_id, status, provider_ref, failure_reason, bump, out_event_id, out_topic, out_key, out_type, out_payload, out_trace)
     ), claimed AS (
       INSERT INTO ${table('inbox')} (consumer, event_id, event_type)
       SELECT $14, event_id, event_type FROM input
       ON CONFLICT (consumer, event_id) DO NOTHING
       RETURNING event_id
     ), moved AS (
       UPDATE ${table('payments')} p
          SET status = i.status, provider_ref = i.provider_ref, failure_reason = i.failure_reason,
              version = p.version + i.bump, updated_at = CURRENT_TIMESTAMP
         FROM input i JOIN claimed c ON c.event_id = i.event_id
        WHERE p.id = i.payment_id AND p.status = 'PENDING' AND i.status IS NOT NULL
       RETURNING p.id, p.version
     ), published AS (
       INSERT INTO ${table('outbox')} (event_id, topic, message_key, event_type, payload, trace_parent)
       SELECT i.out_event_id, i.out_topic, i.out_key, i.out_type, jsonb_set(i.out_payload, '{aggregateVersion}', to_jsonb(m.version)), i.out_trace
         FROM input i JOIN moved m ON m.id = i.payment_id
        WHERE i.out_payload IS NOT NULL
       RETURNING 1
     )
     SELECT (SELECT array_agg(event_id::text) FROM claimed) AS claimed, (SELECT pg_notify($15, '') FROM published WHERE $16::boolean LIMIT 1) AS notified`,
    values: [...Object.values(columns), consumer, outboxChannel(PAYMENT_SCHEMA), notify],
  });
  const claimed = new Set(((rows[0]?.claimed ?? []) as string[]).map((id) => id.toLowerCase()));
  columns.status.forEach((status, i) => {
    if (status !== null && claimed.has(columns.event_id[i].toLowerCase())) paymentMetrics.payments.inc({ outcome: status });
  });
  return claimed;
}
