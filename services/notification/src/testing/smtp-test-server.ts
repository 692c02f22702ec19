import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { MimePart, parseMime, readMessage } from '@booking/dev-inbox';

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
  return readMessage(mail.message);
}
