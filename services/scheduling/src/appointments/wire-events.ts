import { OutgoingEvent } from '@booking/platform';
import { TOPICS } from '@booking/contracts';
import { AppointmentEvent, AppointmentState, ProviderSnapshot } from '@booking/appointment-domain';
import { StoredEvent } from '../shared/event-store';
import { Provider } from '../providers/provider';

type LiveState = Exclude<AppointmentState, { status: 'NONE' }>;

/**
 * The provider as a booking records it, for the messages about the appointment: name, zone and every
 * contact field (email, phone, push endpoint, locale), so a provider is told in their own language
 * and on each channel they gave.
 */
export function providerSnapshotOf(provider: Pick<Provider, 'name' | 'rules' | 'contact'>): ProviderSnapshot {
  const { email, phone, pushEndpoint, locale } = provider.contact;
  return {
    displayName: provider.name,
    timeZone: provider.rules.timezone,
    ...(email && { email }),
    ...(phone && { phone }),
    ...(pushEndpoint && { pushEndpoint }),
    ...(locale && { locale }),
  };
}

/**
 * The public form of a decider event: what other services read on `scheduling.appointment.v1`. Each
 * carries the contacts and times consumers need, so none of them ever calls scheduling back.
 */
/** What of a stored event its wire form needs. */
type WireSource = Pick<StoredEvent<AppointmentEvent>, 'eventId' | 'version' | 'data' | 'occurredAt'>;

export function toWireEvent(stored: WireSource, state: LiveState, extra: Record<string, unknown> = {}): OutgoingEvent {
  const event = stored.data;
  const p = state.providerSnapshot;
  const core = {
    appointmentId: state.appointmentId,
    providerId: state.providerId,
    clientId: state.clientId,
    start: state.start,
    end: state.end,
    client: {
      timeZone: state.client.timeZone,
      ...(state.client.locale && { locale: state.client.locale }),
      ...(state.client.email && { email: state.client.email }),
      ...(state.client.phone && { phone: state.client.phone }),
      ...(state.client.pushToken && { pushEndpoint: state.client.pushToken }),
    },
    provider: {
      timeZone: p?.timeZone ?? 'UTC',
      ...(p?.displayName && { name: p.displayName }),
      ...(p?.email && { email: p.email }),
      ...(p?.phone && { phone: p.phone }),
      ...(p?.pushEndpoint && { pushEndpoint: p.pushEndpoint }),
      ...(p?.locale && { locale: p.locale }),
    },
  };
  let data: Record<string, unknown>;
  switch (event.type) {
    case 'AppointmentRequested':
      data = { ...core, price: event.price, holdExpiresAt: event.holdExpiresAt, policy: event.policy, ...extra };
      break;
    case 'AppointmentConfirmed':
      data = { ...core, paymentId: event.paymentId, amountMinor: event.paidMinor, currency: event.currency, reason: event.reason };
      break;
    case 'AppointmentCancelled':
      data = {
        ...core,
        by: event.by,
        reason: event.reason,
        feeMinor: event.feeMinor,
        refundMinor: event.refundMinor,
        currency: event.currency,
        paymentId: event.paymentId,
      };
      break;
    case 'AppointmentRescheduled':
      data = {
        ...core,
        previousStart: event.previousStart,
        previousEnd: event.previousEnd,
        free: event.free,
        feeMinor: event.feeMinor,
        creditMinor: event.creditMinor,
        currency: event.currency,
        paymentId: state.ledger.paymentId,
      };
      break;
    case 'AppointmentCompleted':
      data = { ...core, settledMinor: event.settledMinor, currency: event.currency };
      break;
    case 'AppointmentMarkedNoShow':
      data = { ...core, refundMinor: event.refundMinor, forfeitedMinor: event.forfeitedMinor, currency: event.currency, paymentId: event.paymentId };
      break;
    case 'LatePaymentRefundRequested':
      // With the parties and times, so that notification can tell the client the payment is refunded.
      data = { ...core, paymentId: event.paymentId, amountMinor: event.amountMinor, currency: event.currency, reason: event.reason };
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${(unreachable as { type: string }).type}`);
    }
  }
  return {
    topic: TOPICS.appointment,
    type: event.type,
    aggregateId: state.appointmentId,
    aggregateVersion: stored.version,
    data,
    occurredAt: stored.occurredAt,
    eventId: stored.eventId,
  };
}
