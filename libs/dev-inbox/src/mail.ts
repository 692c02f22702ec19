import { header, MimePart, partsOfType, partText } from './mime';

/** The parts of a mail as nodemailer builds the notification service's: text, HTML and the calendar parts. */
export function readMessage(message: MimePart) {
  const [text] = partsOfType(message, 'text/plain');
  const [html] = partsOfType(message, 'text/html');
  const calendars = partsOfType(message, 'text/calendar');
  const icsAttachments = partsOfType(message, 'application/ics');
  return {
    subject: header(message, 'subject'),
    from: header(message, 'from'),
    to: header(message, 'to'),
    messageId: header(message, 'message-id'),
    deliveryId: header(message, 'x-booking-delivery-id'),
    text: text && partText(text),
    html: html && partText(html),
    calendar: calendars[0] && { contentType: calendars[0].headers.get('content-type') ?? '', content: partText(calendars[0]) },
    attachment: icsAttachments[0] && {
      contentType: icsAttachments[0].headers.get('content-type') ?? '',
      disposition: icsAttachments[0].headers.get('content-disposition') ?? '',
      content: partText(icsAttachments[0]),
    },
  };
}

export type ReadMessage = ReturnType<typeof readMessage>;
