import { ChannelName } from '../channels/channel';
import { RecipientRole } from '../rendering/message';
import { Contact } from '../rendering/parties';
import { cancelledBeforeConfirmation, NotifiableEvent } from './notifiable-event';

export type PlannedDelivery = {
  role: RecipientRole;
  channel: ChannelName;
  contact: Contact;
  /** Null when the channel was asked for (a reminder's) but the contact has no such address. */
  address: string | null;
};

const CHANNELS: readonly ChannelName[] = ['EMAIL', 'SMS', 'PUSH'];

export function addressFor(contact: Contact, channel: ChannelName): string | null {
  const address = channel === 'EMAIL' ? contact.email : channel === 'SMS' ? contact.phone : contact.pushEndpoint;
  return address ?? null;
}

/**
 * Who hears about an event, and how. Appointment events go to the client and the provider on every
 * channel each has; a booking cancelled before it was confirmed (payment failed, hold expired) only
 * to the client, since the provider was never told about it. A reminder goes to the client on the
 * reminder's channel, even without an address for it, so that the reminder service hears it failed.
 * A late payment's refund goes to the client only, on every channel.
 */
export function planDeliveries(event: NotifiableEvent): PlannedDelivery[] {
  if (event.type === 'ReminderDue') {
    const contact = event.data.client;
    return [{ role: 'CLIENT', channel: event.data.channel, contact, address: addressFor(contact, event.data.channel) }];
  }
  // A late payment's refund concerns the client only: the provider never had the booking.
  const roles: RecipientRole[] = cancelledBeforeConfirmation(event) || event.type === 'LatePaymentRefundRequested' ? ['CLIENT'] : ['CLIENT', 'PROVIDER'];
  return roles.flatMap((role) => {
    const contact = role === 'CLIENT' ? event.data.client : event.data.provider;
    return CHANNELS.flatMap((channel) => {
      const address = addressFor(contact, channel);
      return address ? [{ role, channel, contact, address }] : [];
    });
  });
}
