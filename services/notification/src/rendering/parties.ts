import { EventData } from '@booking/contracts';
import { RecipientRole } from './message';

export type Contact = EventData<'AppointmentConfirmed'>['client'];

/** The recipient and the other party of an appointment, with names to show when a contact has none. */
export function parties(data: { client: Contact; provider: Contact }, role: RecipientRole) {
  const me = role === 'CLIENT' ? data.client : data.provider;
  const other = role === 'CLIENT' ? data.provider : data.client;
  const otherName = other.name?.trim() || (role === 'CLIENT' ? 'your provider' : 'a client');
  return { me, other, otherName, myName: me.name };
}

export function capitalise(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}
