import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { header, MimePart, parseMime, partsOfType, partText } from './mime';

export type ReceivedMail = { from: string; to: string[]; raw: Buffer; message: MimePart };

type SmtpError = Error & { responseCode: number };

const smtpError = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

/**
 * A real SMTP server on loopback (the smtp-server package) that keeps what it accepts. It can refuse
 * the next N transactions with 451 (a transient failure) and reject chosen recipients with 550.
 */
export class SmtpTestServer {
  readonly received: ReceivedMail[] = [];
  /** Every MAIL FROM the server saw, accepted or not. */
  transactions = 0;
  private refusals = 0;
  private readonly rejected = new Set<string>();
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onMailFrom: (_address, _session, callback) => {
        this.transactions += 1;
        if (this.refusals > 0) {
          this.refusals -= 1;
          return callback(smtpError(451, 'Requested action aborted: local error in processing, try again later'));
        }
        callback();
      },
      onRcptTo: (address, _session, callback) => {
        if (this.rejected.has(address.address.toLowerCase())) return callback(smtpError(550, `No such user here: ${address.address}`));
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const mailFrom = session.envelope.mailFrom;
          this.received.push({
            from: mailFrom ? mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            message: parseMime(raw),
          });
          callback();
        });
      },
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  refuseNext(count: number): void {
    this.refusals = count;
  }

  reject(address: string): void {
    this.rejected.add(address.toLowerCase());
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The parts of a received mail a test looks at. */
export function readMail(mail: ReceivedMail) {
  const [text] = partsOfType(mail.message, 'text/plain');
  const [html] = partsOfType(mail.message, 'text/html');
  const calendars = partsOfType(mail.message, 'text/calendar');
  const icsAttachments = partsOfType(mail.message, 'application/ics');
  return {
    subject: header(mail.message, 'subject'),
    from: header(mail.message, 'from'),
    to: header(mail.message, 'to'),
    messageId: header(mail.message, 'message-id'),
    deliveryId: header(mail.message, 'x-booking-delivery-id'),
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
