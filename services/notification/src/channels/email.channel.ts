import nodemailer, { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { Channel, EmailMessage, SendResult } from './channel';
import { classifySmtpError } from './classify-errors';

export type EmailSettings = { smtpUrl: string; from: string; timeoutMs: number };

/**
 * Email over SMTP with nodemailer: text and HTML parts, and for calendar updates the iCalendar object
 * both as a `text/calendar; method=…` alternative (what calendar clients act on) and as an .ics
 * attachment. One connection per message: the volume is a few mails per booking, and a fresh
 * connection keeps one refused message from affecting the next.
 */
export class EmailChannel implements Channel<EmailMessage> {
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly messageIdDomain: string;

  constructor(private readonly settings: EmailSettings) {
    const options: SMTPTransport.Options = {
      url: settings.smtpUrl,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    };
    this.transport = nodemailer.createTransport(options);
    this.messageIdDomain = /@([^>\s]+)>?$/.exec(settings.from)?.[1] ?? 'booking.local';
  }

  async send(message: EmailMessage): Promise<SendResult> {
    try {
      const info = await this.transport.sendMail({
        from: this.settings.from,
        to: message.to.name ? { name: message.to.name, address: message.to.address } : message.to.address,
        subject: message.subject,
        text: message.text,
        html: message.html,
        // The same Message-ID on every attempt of one delivery: if a crash makes us send it twice,
        // receiving systems can tell it is one message.
        messageId: `<${message.deliveryId}@${this.messageIdDomain}>`,
        headers: { 'X-Booking-Delivery-Id': message.deliveryId },
        ...(message.calendar && {
          icalEvent: {
            method: message.calendar.method,
            filename: message.calendar.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics',
            content: message.calendar.content,
          },
        }),
      });
      return { providerMessageId: info.messageId };
    } catch (error) {
      throw classifySmtpError(error);
    }
  }
}
