import { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { request } from 'undici';
import { ChangeWatch } from '@booking/platform';

export type SchedulingChangeFeedOptions = {
  /** scheduling's base URL; the feed is `GET /availability/changes`. */
  url: string;
  enabled: boolean;
  /** A feed silent this long is taken for dead (scheduling pings every second). */
  silenceMs?: number;
  /** Wait before each reconnect. */
  retryMs?: number;
};

/**
 * Scheduling's availability change feed (server-sent events), heard by this gateway instance so that a
 * slot answer it holds can be sent again without asking scheduling: see `SchedulingClient.revalidate`.
 * The feed names the provider of every change scheduling hears from its database, whoever wrote it;
 * this gateway's own writes count at once (`changed`). Nothing is trusted while the feed is not open
 * (not yet `ready`, ended, silent too long, refused); once it opens again, everything heard before is
 * forgotten, since what was said while nobody listened is lost.
 */
export class SchedulingChangeFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly watch = new ChangeWatch();
  private open = false;
  private stopped = false;
  private abort?: AbortController;
  private retry?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Said once per outage, not at every retry. */
  private warned = false;

  constructor(
    private readonly options: SchedulingChangeFeedOptions,
    private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.enabled) this.running = this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.abort?.abort();
    await this.running;
  }

  /** Whether changes are being heard now. */
  isOpen(): boolean {
    return this.open;
  }

  /** The mark to keep with an answer: take it before asking scheduling for it. */
  mark(): number {
    return this.watch.mark();
  }

  /** True when the feed is open and has named no change of the provider since `mark`. */
  unchangedSince(providerId: string, mark: number): boolean {
    return this.open && this.watch.unchangedSince(providerId, mark);
  }

  /** A change of the provider's slots made through this gateway (its answer came back 2xx). */
  changed(providerId: string): void {
    this.watch.changed(providerId);
  }

  private async listen(): Promise<void> {
    const { silenceMs = 3000 } = this.options;
    const abort = new AbortController();
    this.abort = abort;
    try {
      const { statusCode, body } = await request(`${this.options.url}/availability/changes`, {
        signal: abort.signal,
        headersTimeout: silenceMs,
        bodyTimeout: silenceMs,
      });
      if (statusCode !== 200) {
        await body.dump();
        throw new Error(`the change feed answered ${statusCode}`);
      }
      let buffer = '';
      for await (const chunk of body) {
        buffer += (chunk as Buffer).toString('utf8');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          this.receive(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      throw new Error('the change feed ended');
    } catch (error) {
      this.close();
      if (this.stopped) return;
      if (!this.warned) this.logger.warn({ err: error }, 'scheduling change feed unavailable; slot answers are revalidated every time until it is back');
      this.warned = true;
      this.retry = setTimeout(() => {
        this.running = this.listen();
      }, this.options.retryMs ?? 1000);
    }
  }

  /** One server-sent event: `event:` and `data:` lines; comments (`: ping`) only keep the feed alive. */
  private receive(message: string): void {
    let event = 'message';
    let data = '';
    for (const line of message.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data = line.slice(5).trim();
    }
    if (event === 'ready') {
      this.watch.forgetAll();
      this.open = true;
      if (this.warned) this.logger.info('scheduling change feed is back');
      this.warned = false;
    } else if (event === 'changed' && data !== '') {
      this.watch.changed(data);
    }
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    this.watch.forgetAll();
  }
}
