import { randomUUID } from 'node:crypto';
import { EventData } from '@booking/contracts';
import { NotifiableEvent, NotifiableType } from '../deliveries/notifiable-event';

type Contact = EventData<'AppointmentConfirmed'>['client'];

export const tokyoClient: Contact = {
  name: 'Aiko Tanaka',
  timeZone: 'Asia/Tokyo',
  locale: 'en-US',
  email: 'aiko@example.jp',
  phone: '+819012345678',
};

export const newYorkProvider: Contact = {
  name: 'Dr. Sam Smith',
  timeZone: 'America/New_York',
  locale: 'en-US',
  email: 'sam@clinic.example',
  phone: '+12125550100',
};

/** Tuesday 1 December 2026, 09:00–09:30 in New York = 23:00–23:30 in Tokyo. */
export const appointmentTimes = { start: '2026-12-01T14:00:00.000Z', end: '2026-12-01T14:30:00.000Z' };

const core = (appointmentId: string) => ({
  appointmentId,
  providerId: 'prov-1',
  clientId: 'client-1',
  ...appointmentTimes,
  client: tokyoClient,
  provider: newYorkProvider,
});

type EnvelopeOptions = { eventId?: string; aggregateVersion?: number; occurredAt?: string };

export function envelopeOf<T extends NotifiableType>(type: T, data: EventData<T>, options: EnvelopeOptions = {}): NotifiableEvent {
  const appointmentId = (data as { appointmentId: string }).appointmentId;
  return {
    eventId: options.eventId ?? randomUUID(),
    type,
    schemaVersion: 1,
    occurredAt: options.occurredAt ?? '2026-11-20T10:00:00.000Z',
    aggregateId: appointmentId,
    aggregateVersion: options.aggregateVersion ?? 2,
    correlationId: `corr-${appointmentId}`,
    causationId: null,
    data,
  } as NotifiableEvent;
}

export function confirmed(data: Partial<EventData<'AppointmentConfirmed'>> = {}, options: EnvelopeOptions = {}) {
  const appointmentId = data.appointmentId ?? `appt-${randomUUID().slice(0, 8)}`;
  return envelopeOf(
    'AppointmentConfirmed',
    { ...core(appointmentId), paymentId: 'pay-1', amountMinor: 150000, currency: 'JPY', ...data },
    options,
  ) as Extract<NotifiableEvent, { type: 'AppointmentConfirmed' }>;
}

export function cancelled(data: Partial<EventData<'AppointmentCancelled'>> = {}, options: EnvelopeOptions = {}) {
  const appointmentId = data.appointmentId ?? `appt-${randomUUID().slice(0, 8)}`;
  return envelopeOf(
    'AppointmentCancelled',
    {
      ...core(appointmentId),
      by: 'CLIENT',
      reason: 'CLIENT_REQUEST',
      feeMinor: 30000,
      refundMinor: 120000,
      currency: 'JPY',
      paymentId: 'pay-1',
      ...data,
    },
    { aggregateVersion: 3, ...options },
  ) as Extract<NotifiableEvent, { type: 'AppointmentCancelled' }>;
}

export function rescheduled(data: Partial<EventData<'AppointmentRescheduled'>> = {}, options: EnvelopeOptions = {}) {
  const appointmentId = data.appointmentId ?? `appt-${randomUUID().slice(0, 8)}`;
  return envelopeOf(
    'AppointmentRescheduled',
    {
      ...core(appointmentId),
      start: '2026-12-02T14:00:00.000Z',
      end: '2026-12-02T14:30:00.000Z',
      previousStart: appointmentTimes.start,
      previousEnd: appointmentTimes.end,
      free: true,
      feeMinor: 0,
      creditMinor: 0,
      currency: 'JPY',
      paymentId: 'pay-1',
      ...data,
    },
    { aggregateVersion: 3, ...options },
  ) as Extract<NotifiableEvent, { type: 'AppointmentRescheduled' }>;
}

export function reminderDue(data: Partial<EventData<'ReminderDue'>> = {}, options: EnvelopeOptions = {}) {
  const appointmentId = data.appointmentId ?? `appt-${randomUUID().slice(0, 8)}`;
  return envelopeOf(
    'ReminderDue',
    {
      reminderId: `rem-${randomUUID().slice(0, 8)}`,
      appointmentId,
      channel: 'SMS',
      offsetMinutes: 1440,
      fireAt: '2026-11-30T14:00:00.000Z',
      ...appointmentTimes,
      client: tokyoClient,
      provider: newYorkProvider,
      ...data,
    },
    { aggregateVersion: 1, ...options },
  ) as Extract<NotifiableEvent, { type: 'ReminderDue' }>;
}

/** A late payment's refund as scheduling writes it since it carries the parties and times. */
export function lateRefund(data: Partial<EventData<'LatePaymentRefundRequested'>> = {}, options: EnvelopeOptions = {}) {
  const appointmentId = data.appointmentId ?? `appt-${randomUUID().slice(0, 8)}`;
  return envelopeOf(
    'LatePaymentRefundRequested',
    { ...core(appointmentId), paymentId: 'pay-late', amountMinor: 150000, currency: 'JPY', reason: 'PAYMENT_AFTER_EXPIRY', ...data },
    { aggregateVersion: 3, ...options },
  ) as Extract<NotifiableEvent, { type: 'LatePaymentRefundRequested' }>;
}
