import type { Channel } from './reminder-status';

/** The parts of a contact that decide its channels (contracts' contactSchema). */
export type ChannelContact = { email?: string; phone?: string; pushEndpoint?: string };

export type PlanInput = {
  start: Date;
  client: ChannelContact;
  /** When the confirmation (or reschedule) is being handled. */
  now: Date;
  offsetsMinutes: readonly number[];
  /** How far in the past a fire time may be and still be sent at once. */
  missedGraceMs: number;
};

export type PlannedReminder = {
  channel: Channel;
  offsetMinutes: number;
  fireAt: Date;
  status: 'SCHEDULED' | 'SKIPPED';
};

const MINUTE_MS = 60_000;

/** A channel is planned when the client's contact can be reached on it. */
export function channelsOf(contact: ChannelContact): Channel[] {
  const channels: Channel[] = [];
  if (contact.email) channels.push('EMAIL');
  if (contact.phone) channels.push('SMS');
  if (contact.pushEndpoint) channels.push('PUSH');
  return channels;
}

/**
 * One reminder per channel and offset, fire time = start − offset. Pure: the caller brings the time.
 *
 * Past fire times (README "Past fire times"): a reminder whose fire time passed more than the grace
 * period ago is SKIPPED, because "your appointment is tomorrow" sent three hours before it is wrong,
 * not late. Within the grace period it is SCHEDULED and fires at once (a confirmation that lands a
 * few seconds after the 24 h mark still deserves its reminder). Nothing fires once the appointment
 * has started, and of several catch-up reminders on one channel only the one closest to the start is
 * kept, so nobody gets two reminders in the same second.
 */
export function planReminders(input: PlanInput): PlannedReminder[] {
  const now = input.now.getTime();
  const start = input.start.getTime();
  const offsets = [...new Set(input.offsetsMinutes)].sort((a, b) => a - b);
  const planned: PlannedReminder[] = [];
  for (const channel of channelsOf(input.client)) {
    let catchUpTaken = false;
    for (const offsetMinutes of offsets) {
      const fireAt = start - offsetMinutes * MINUTE_MS;
      const due = fireAt <= now;
      const sendable = start > now && fireAt >= now - input.missedGraceMs && !(due && catchUpTaken);
      if (sendable && due) catchUpTaken = true;
      planned.push({ channel, offsetMinutes, fireAt: new Date(fireAt), status: sendable ? 'SCHEDULED' : 'SKIPPED' });
    }
  }
  return planned.sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime() || a.channel.localeCompare(b.channel));
}
