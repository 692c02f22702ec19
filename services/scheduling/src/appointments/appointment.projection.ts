import { Knex } from 'knex';
import { AppointmentState, blockedRange } from '@booking/appointment-domain';
import { renderSlot } from '@booking/slot-engine';

type LiveState = Exclude<AppointmentState, { status: 'NONE' }>;

/** The `appointments` row for a state: a pure function of the stream, so it can be rebuilt. */
export function projectionRow(state: LiveState, updatedAt: string) {
  const [blockedStart, blockedEnd] = blockedRange(state);
  const cancellation = state.status === 'CANCELLED' ? state.cancellation : null;
  return {
    id: state.appointmentId,
    provider_id: state.providerId,
    client_id: state.clientId,
    start_time: state.start,
    end_time: state.end,
    blocked_start: blockedStart,
    blocked_end: blockedEnd,
    status: state.status,
    cancel_reason: cancellation?.reason ?? null,
    price_minor: state.price.amountMinor,
    currency: state.price.currency,
    paid_minor: state.ledger.paidMinor,
    payment_id: state.ledger.paymentId,
    // Fees only (late cancellation, reschedule, forfeit): a completion's settlement is kept too, but is the price, not a fee.
    fee_minor: state.ledger.retainedMinor - (state.status === 'COMPLETED' ? state.settledMinor : 0),
    refund_minor: state.ledger.refundedMinor,
    hold_expires_at: state.status === 'PENDING' ? state.holdExpiresAt : null,
    policy: JSON.stringify(state.policy),
    client: JSON.stringify({ ...state.client, cancellation }),
    version: state.version,
    created_at: state.requestedAt,
    updated_at: updatedAt,
  };
}

/** Writes the row in the caller's transaction, so the exclusion constraint guards the append itself. */
export async function project(trx: Knex.Transaction, state: LiveState, updatedAt: string, isNew: boolean): Promise<void> {
  const row = projectionRow(state, updatedAt);
  if (isNew) await trx('appointments').insert(row);
  else await trx('appointments').where({ id: row.id }).update(row);
}

export type AppointmentRow = {
  id: string;
  provider_id: string;
  client_id: string;
  start_time: Date;
  end_time: Date;
  status: string;
  cancel_reason: string | null;
  price_minor: string;
  currency: string;
  paid_minor: string;
  payment_id: string | null;
  fee_minor: string;
  refund_minor: string;
  hold_expires_at: Date | null;
  policy: unknown;
  client: { timeZone: string; cancellation: { by: string; reason: string; cancelledAt: string; feeMinor: number; refundMinor: number } | null } & Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
};

/** The row a state projects to, as the database would return it (saves reading back what we wrote). */
export function rowFromState(state: LiveState, updatedAt: Date): AppointmentRow {
  const row = projectionRow(state, updatedAt.toISOString());
  return {
    ...row,
    start_time: new Date(row.start_time),
    end_time: new Date(row.end_time),
    price_minor: String(row.price_minor),
    paid_minor: String(row.paid_minor),
    fee_minor: String(row.fee_minor),
    refund_minor: String(row.refund_minor),
    hold_expires_at: row.hold_expires_at ? new Date(row.hold_expires_at) : null,
    policy: state.policy,
    client: JSON.parse(row.client),
    created_at: new Date(row.created_at),
    updated_at: updatedAt,
  };
}

/** What the API promises about an appointment; times in UTC plus the client's own zone. */
export function appointmentResponse(row: AppointmentRow) {
  const zone = row.client.timeZone;
  // The slot engine's renderer: the same text as luxon's toISO(), without a DateTime per instant.
  const local = renderSlot({ start: row.start_time.getTime(), end: row.end_time.getTime() }, zone).local;
  // The domain keeps the request's client.pushEndpoint as pushToken (stored events and rows say so);
  // the API answers with the request's own name.
  const { cancellation, pushToken, ...contact } = row.client;
  const client = { ...contact, ...(typeof pushToken === 'string' && { pushEndpoint: pushToken }) };
  return {
    id: row.id,
    providerId: row.provider_id,
    clientId: row.client_id,
    status: row.status,
    start: row.start_time.toISOString(),
    end: row.end_time.toISOString(),
    local: { timeZone: zone, start: local.start, end: local.end },
    price: { amountMinor: Number(row.price_minor), currency: row.currency },
    paidMinor: Number(row.paid_minor),
    feeMinor: Number(row.fee_minor),
    refundMinor: Number(row.refund_minor),
    paymentId: row.payment_id,
    holdExpiresAt: row.hold_expires_at?.toISOString() ?? null,
    cancellation: cancellation ? { by: cancellation.by, reason: cancellation.reason, at: cancellation.cancelledAt } : null,
    policy: row.policy,
    client,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type AppointmentResponse = ReturnType<typeof appointmentResponse>;
