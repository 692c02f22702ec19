import { Controller, Get, Injectable, OnModuleDestroy, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemError } from '@booking/platform';
import { AvailabilityWatch } from './availability-watch';

/** Between two messages of the feed at most this long, so a reader can tell a dead feed from a quiet one. */
export const FEED_PING_MS = 1000;

/**
 * The change feed's open streams, ended when the service stops (an open stream would hold the HTTP
 * server's close) or when this instance stops hearing changes.
 */
@Injectable()
export class AvailabilityFeed implements OnModuleDestroy {
  private readonly streams = new Set<() => void>();

  constructor(private readonly watch: AvailabilityWatch) {}

  /**
   * Server-sent events on `reply`: `ready` first, then `changed` with a provider id for every change of
   * a provider's slots this instance hears from now on (made by any writer, through any instance), and
   * a `: ping` comment every second. The stream ends the moment changes may have been missed. A reader
   * may trust a slot answer it holds, without asking again, while its stream is open and has announced
   * no change of that provider since the answer was asked for.
   */
  open(reply: FastifyReply): void {
    if (!this.watch.isListening()) {
      throw new ProblemError(503, 'CHANGE_FEED_UNAVAILABLE', 'This instance does not hear availability changes right now; retry shortly.');
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
    raw.write('event: ready\ndata:\n\n');
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      clearInterval(ping);
      unsubscribe();
      this.streams.delete(close);
      raw.end();
    };
    // A reader that went away is noticed by 'close' (or 'error'); nothing is written after that.
    const send = (text: string) => {
      if (open && !raw.destroyed) raw.write(text);
    };
    const unsubscribe = this.watch.subscribe((notice) => {
      if (notice.type === 'lost') return close();
      send(`event: changed\ndata: ${notice.providerId}\n\n`);
    });
    const ping = setInterval(() => send(': ping\n\n'), FEED_PING_MS);
    this.streams.add(close);
    raw.on('close', close);
    raw.on('error', close);
  }

  onModuleDestroy(): void {
    for (const close of [...this.streams]) close();
  }
}

@Controller('availability')
export class AvailabilityFeedHttpController {
  constructor(private readonly feed: AvailabilityFeed) {}

  /** For caches in front of this service (the gateway): see `AvailabilityFeed.open`. */
  @Get('changes')
  changes(@Res() reply: FastifyReply): void {
    this.feed.open(reply);
  }
}
