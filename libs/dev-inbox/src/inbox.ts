import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { readMessage } from './mail';
import { parseMime } from './mime';
import { renderInboxPage } from './page';
import { TWILIO_MESSAGES_PATH, twilioMessageResource } from './twilio';

type Common = { id: string; receivedAt: string };
export type InboxMail = Common & {
  kind: 'EMAIL';
  /** SMTP envelope recipients. */
  to: string[];
  from: string;
  subject: string;
  deliveryId?: string;
  text?: string;
  html?: string;
  /** The iCalendar object the mail carries (its text/calendar part, else its .ics attachment). */
  ics?: { method: string; content: string };
};
export type InboxSms = Common & { kind: 'SMS'; to: string; from: string; body: string; accountSid: string };
export type InboxPush = Common & {
  kind: 'PUSH';
  /** The path the push was posted to (`/push/<anything>`): the recipient's pushEndpoint. */
  endpoint: string;
  deliveryId?: string;
  signature?: string;
  payload: unknown;
};
export type InboxMessage = InboxMail | InboxSms | InboxPush;

export type DevInboxOptions = {
  /** Where the page, the Messages API and the push endpoints listen (0: any free port). */
  httpPort: number;
  smtpPort: number;
  host?: string;
  /** The most messages kept (oldest dropped first). */
  keep?: number;
};

const MAX_BODY = 1024 * 1024;

/**
 * What a development run of the platform sends, caught on this machine instead of going out: an SMTP
 * server (the smtp-server package) for mail, Twilio's Messages API for SMS (the twilio SDK pointed here
 * by TWILIO_API_BASE_URL), and push webhooks at /push/*; a page at / lists every message with its
 * rendered body and .ics, and /messages.json the same as JSON. Everything stays in memory. For
 * development and tests only: it authenticates nobody and keeps whatever it is sent.
 */
export class DevInbox {
  private readonly messages: InboxMessage[] = [];
  private readonly http: Server;
  private readonly smtp: SMTPServer;
  private readonly keep: number;
  private httpAddress = '';
  private smtpAddress = '';

  constructor(private readonly options: DevInboxOptions) {
    this.keep = options.keep ?? 1000;
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`dev inbox: ${error.message}`);
      });
    });
    this.smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      size: MAX_BODY * 10,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          try {
            const mail = readMessage(parseMime(Buffer.concat(chunks)));
            const calendar = mail.calendar ?? mail.attachment;
            this.add({
              kind: 'EMAIL',
              to: session.envelope.rcptTo.map((r) => r.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: mail.subject ?? '',
              ...(mail.deliveryId && { deliveryId: mail.deliveryId }),
              ...(mail.text !== undefined && { text: mail.text }),
              ...(mail.html !== undefined && { html: mail.html }),
              ...(calendar && { ics: { method: /^METHOD:(\S+)/m.exec(calendar.content)?.[1] ?? '', content: calendar.content } }),
            });
            callback();
          } catch (error) {
            callback(error as Error);
          }
        });
      },
    });
  }

  async start(): Promise<{ url: string; smtpUrl: string }> {
    const host = this.options.host ?? '127.0.0.1';
    await listen((cb) => this.http.listen(this.options.httpPort, host, cb), this.http);
    await listen((cb) => this.smtp.listen(this.options.smtpPort, host, cb), this.smtp.server);
    this.httpAddress = `http://${host}:${(this.http.address() as AddressInfo).port}`;
    this.smtpAddress = `smtp://${host}:${(this.smtp.server.address() as AddressInfo).port}`;
    return { url: this.httpAddress, smtpUrl: this.smtpAddress };
  }

  async stop(): Promise<void> {
    this.http.closeAllConnections();
    await Promise.all([
      new Promise<void>((resolve) => this.http.close(() => resolve())),
      new Promise<void>((resolve) => this.smtp.close(() => resolve())),
    ]);
  }

  /** Every message kept, newest first. */
  list(): InboxMessage[] {
    return [...this.messages].reverse();
  }

  private add(message: Omit<InboxMail, keyof Common> | Omit<InboxSms, keyof Common> | Omit<InboxPush, keyof Common>): void {
    this.messages.push({ id: randomBytes(6).toString('hex'), receivedAt: new Date().toISOString(), ...message } as InboxMessage);
    if (this.messages.length > this.keep) this.messages.splice(0, this.messages.length - this.keep);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://inbox');
    const method = req.method ?? 'GET';
    const twilio = TWILIO_MESSAGES_PATH.exec(url.pathname);
    if (twilio && method === 'POST') {
      const form = Object.fromEntries(new URLSearchParams(await body(req)));
      if (!form.To || !form.Body) {
        return json(res, 400, { code: 21602, message: 'Message body and To are required', status: 400 });
      }
      this.add({ kind: 'SMS', to: form.To, from: form.From ?? form.MessagingServiceSid ?? '', body: form.Body, accountSid: twilio[1] });
      return json(res, 201, twilioMessageResource(twilio[1], form));
    }
    if (url.pathname.startsWith('/push/') && method === 'POST') {
      const raw = await body(req);
      let payload: unknown;
      try {
        payload = JSON.parse(raw);
      } catch {
        return json(res, 400, { error: 'the body is not JSON' });
      }
      const deliveryId = req.headers['x-booking-delivery-id'];
      const signature = req.headers['x-booking-signature'];
      this.add({
        kind: 'PUSH',
        endpoint: url.pathname,
        payload,
        ...(typeof deliveryId === 'string' && { deliveryId }),
        ...(typeof signature === 'string' && { signature }),
      });
      return json(res, 202, { accepted: true }, { 'x-request-id': `dev-inbox-${this.messages.length}` });
    }
    if (method === 'GET' && url.pathname === '/messages.json') return json(res, 200, this.filtered(url));
    if (method === 'DELETE' && url.pathname === '/messages') {
      this.messages.length = 0;
      res.writeHead(204).end();
      return;
    }
    const part = /^\/messages\/([0-9a-f]{12})\/(invite\.ics|body\.html)$/.exec(url.pathname);
    if (method === 'GET' && part) {
      const mail = this.messages.find((m): m is InboxMail => m.id === part[1] && m.kind === 'EMAIL');
      const content = part[2] === 'invite.ics' ? mail?.ics?.content : mail?.html;
      if (!mail || content === undefined) return text(res, 404, 'no such message part');
      if (part[2] === 'invite.ics') {
        res.writeHead(200, { 'content-type': `text/calendar; charset=utf-8; method=${mail.ics?.method ?? 'PUBLISH'}`, 'content-disposition': 'inline; filename="invite.ics"' });
      } else {
        // A mail's HTML is shown in a sandboxed frame: no script runs, nothing is fetched.
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'" });
      }
      res.end(content);
      return;
    }
    if (method === 'GET' && url.pathname === '/health') return json(res, 200, { status: 'ok', messages: this.messages.length });
    if (method === 'GET' && url.pathname === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'",
        'cache-control': 'no-store',
      });
      res.end(renderInboxPage(this.filtered(url), { to: url.searchParams.get('to') ?? '', smtpUrl: this.smtpAddress, url: this.httpAddress }));
      return;
    }
    text(res, 404, 'not found: the inbox answers GET /, GET /messages.json, POST /push/*, the Twilio Messages API');
  }

  /** Newest first; `?to=` keeps the messages to that address, number or push path. */
  private filtered(url: URL): InboxMessage[] {
    const to = url.searchParams.get('to');
    const all = this.list();
    if (!to) return all;
    return all.filter((m) => (m.kind === 'EMAIL' ? m.to.includes(to) : m.kind === 'SMS' ? m.to === to : m.endpoint === to));
  }
}

function listen(start: (callback: () => void) => void, server: EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    start(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

function text(res: ServerResponse, status: number, value: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(value);
}
