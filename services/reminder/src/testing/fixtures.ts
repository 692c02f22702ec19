import { randomUUID } from 'node:crypto';
import { Envelope, eventDataSchemas, EventType } from '@booking/contracts';

const HOUR = 3_600_000;

export const clientContact = {
  name: 'Ada Lovelace',
  timeZone: 'Europe/London',
  locale: 'en-GB',
  email: 'ada@example.com',
  phone: '+447700900123',
  pushEndpoint: 'https://push.example.com/ada',
};

export const providerContact = { name: 'Dr. Grace Hopper', timeZone: 'America/New_York', email: 'grace@example.com' };

export type AppointmentFixture = {
  appointmentId: string;
  version: number;
  start: Date;
  durationMinutes?: number;
  client?: Record<string, unknown>;
  previousStart?: Date;
};

function envelope(type: EventType, aggregateId: string, aggregateVersion: number, data: Record<string, unknown>): Envelope {
  // Fixtures must be valid wire events, or the tests would exercise the consumer's validation instead.
  const parsed = eventDataSchemas[type].parse(data) as Record<string, unknown>;
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    aggregateId,
    aggregateVersion,
    correlationId: randomUUID(),
    causationId: null,
    data: parsed,
  };
}

function core(a: AppointmentFixture) {
  return {
    appointmentId: a.appointmentId,
    providerId: 'provider-1',
    clientId: 'client-1',
    start: a.start.toISOString(),
    end: new Date(a.start.getTime() + (a.durationMinutes ?? 30) * 60_000).toISOString(),
    client: a.client ?? clientContact,
    provider: providerContact,
  };
}

export function confirmed(a: AppointmentFixture): Envelope {
  return envelope('AppointmentConfirmed', a.appointmentId, a.version, {
    ...core(a),
    paymentId: 'pay-1',
    amountMinor: 5000,
    currency: 'EUR',
  });
}

export function cancelled(a: AppointmentFixture): Envelope {
  return envelope('AppointmentCancelled', a.appointmentId, a.version, {
    ...core(a),
    by: 'CLIENT',
    reason: 'CLIENT_REQUEST',
    feeMinor: 0,
    refundMinor: 5000,
    currency: 'EUR',
    paymentId: 'pay-1',
  });
}

export function rescheduled(a: AppointmentFixture & { previousStart: Date }): Envelope {
  return envelope('AppointmentRescheduled', a.appointmentId, a.version, {
    ...core(a),
    previousStart: a.previousStart.toISOString(),
    previousEnd: new Date(a.previousStart.getTime() + (a.durationMinutes ?? 30) * 60_000).toISOString(),
    free: true,
    feeMinor: 0,
    creditMinor: 5000,
    currency: 'EUR',
    paymentId: 'pay-1',
  });
}

export function notificationSent(appointmentId: string, reminderId: string | null, channel: 'EMAIL' | 'SMS' | 'PUSH' = 'EMAIL'): Envelope {
  return envelope('NotificationSent', appointmentId, 1, { deliveryId: randomUUID(), sourceEventId: randomUUID(), reminderId, channel });
}

export function notificationFailed(appointmentId: string, reminderId: string, error: string, channel: 'EMAIL' | 'SMS' | 'PUSH' = 'EMAIL'): Envelope {
  return envelope('NotificationFailed', appointmentId, 1, { deliveryId: randomUUID(), sourceEventId: randomUUID(), reminderId, channel, error });
}

/** A start far enough ahead that every default reminder (24 h, 1 h) is in the future. */
export const weekAfter = (now: Date) => new Date(now.getTime() + 7 * 24 * HOUR);
