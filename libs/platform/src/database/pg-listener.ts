import { Client, ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { asClientConfig, quoteIdent } from './database';

export type PgListenerOptions = {
  /** A session of its own (DATABASE_DIRECT_URL): LISTEN does not survive a transaction pooler. */
  connection: string | ClientConfig;
  channels: readonly string[];
  applicationName: string;
  /** Each notification on one of the channels, in the order Postgres delivered them. */
  onNotification: (channel: string, payload: string) => void;
  /**
   * LISTEN is in effect (first time, and again after every reconnect). Notifications of commits made
   * while no session was listening are gone: the caller must treat anything it learnt before as stale.
   */
  onListening: () => void;
  /** The session is known lost: notifications may be missed from now until the next `onListening`. */
  onLost: () => void;
  /**
   * A session that does not answer a probe within this long is dropped as lost, so a connection that
   * died without a word (no FIN, no RST) is noticed within about twice this.
   */
  heartbeatMs?: number;
  /** Wait before each reconnect attempt. */
  retryMs?: number;
};

/**
 * One dedicated Postgres session LISTENing on some channels, reconnecting until stopped, and saying
 * exactly when it is and is not listening: a consumer that trusts notifications to keep a memo fresh
 * must stop trusting them the moment the session is gone, and forget what it memoised once it is back.
 *
 * Keep to one such session per process: Postgres (15) wakes every listening session of a database at
 * every commit that notifies, whatever the channel, so each one more costs a process wake-up per commit.
 */
export class PgListener {
  private client?: Client;
  private heartbeat?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private listening = false;
  private stopped = false;

  constructor(
    private readonly options: PgListenerOptions,
    private readonly logger: Logger,
  ) {}

  isListening(): boolean {
    return this.listening;
  }

  /** Resolves once the first attempt listens or fails; a failed attempt is retried in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { channels, heartbeatMs = 1000, retryMs = 1000 } = this.options;
    const client = new Client({ ...asClientConfig(this.options.connection), application_name: this.options.applicationName, keepAlive: true });
    this.client = client;
    let lost = false;
    const drop = (error?: Error) => {
      if (lost) return;
      lost = true;
      clearInterval(this.heartbeat);
      if (this.client === client) this.client = undefined;
      if (this.listening) {
        this.listening = false;
        this.options.onLost();
      }
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({ err: error, channels }, 'notification listener lost its session; reconnecting');
      this.retry = setTimeout(() => void this.connect(), retryMs);
    };
    client.on('error', drop);
    client.on('end', () => drop(new Error('connection ended')));
    client.on('notification', (message) => {
      if (!lost && channels.includes(message.channel)) this.options.onNotification(message.channel, message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(channels.map((channel) => `LISTEN ${quoteIdent(channel)};`).join(' '));
    } catch (error) {
      drop(error as Error);
      return;
    }
    if (lost) return;
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listening = true;
    this.options.onListening();
    this.heartbeat = setInterval(() => {
      const timeout = setTimeout(() => drop(new Error(`no answer to a probe within ${heartbeatMs} ms`)), heartbeatMs);
      client.query('SELECT 1').then(
        () => clearTimeout(timeout),
        (error: Error) => {
          clearTimeout(timeout);
          drop(error);
        },
      );
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    if (this.listening) {
      this.listening = false;
      this.options.onLost();
    }
    await client?.end().catch(() => undefined);
  }
}
