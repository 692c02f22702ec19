export type ChannelName = 'EMAIL' | 'SMS' | 'PUSH';

export type EmailMessage = {
  channel: 'EMAIL';
  deliveryId: string;
  to: { address: string; name?: string };
  subject: string;
  text: string;
  html: string;
  /** An iCalendar object sent both as the text/calendar alternative and as an .ics attachment. */
  calendar?: { method: 'REQUEST' | 'CANCEL'; content: string };
};

export type SmsMessage = { channel: 'SMS'; deliveryId: string; to: string; body: string };

export type PushPayload = {
  deliveryId: string;
  event: string;
  appointmentId: string;
  title: string;
  body: string;
  start: string;
  end: string;
};

export type PushMessage = { channel: 'PUSH'; deliveryId: string; endpoint: string; payload: PushPayload };

export type OutgoingMessage = EmailMessage | SmsMessage | PushMessage;

export type SendResult = { providerMessageId: string };

/** One way of reaching a person. Adapters throw DeliveryError and classify it; nothing else. */
export interface Channel<M extends OutgoingMessage> {
  send(message: M): Promise<SendResult>;
}

export type Channels = {
  EMAIL: Channel<EmailMessage>;
  SMS: Channel<SmsMessage>;
  PUSH: Channel<PushMessage>;
};

/**
 * A failed send, classified. Permanent ones (bad address, invalid number, endpoint gone) will fail
 * the same way every time and are marked FAILED at once; transient ones are retried with backoff.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}
