import { Inject, Injectable } from '@nestjs/common';
import { ChangeWatch, Platform } from '@booking/platform';
import { SCHEDULING_CONFIG, SchedulingConfig } from '../config';

export const availabilityChannel = (schema: string) => `${schema}_availability`;

/** What subscribers of the change feed hear: a provider whose slots may have changed, or that the feed broke. */
export type AvailabilityNotice = { type: 'changed'; providerId: string } | { type: 'lost' };

/**
 * Tells whether a provider's slots may have changed since a moment, so that a memoised slot answer
 * can be served without reading the database again.
 *
 * Every change to what makes slots (appointments going live or not, or moving; blocked time; the
 * provider's rules) notifies `<schema>_availability` with the provider id at commit, whoever made it
 * (triggers, migration 0002). This instance listens on a session of its own and numbers what it hears
 * (`ChangeWatch`): a memo remembers the mark taken before the read it was computed from, and stays good
 * while no change of its provider was heard after that mark. A change committed after the read's
 * snapshot is heard after the mark; one committed before it is in the read. So a memo is stale only for
 * the time a notification takes to arrive (milliseconds), and never once it has arrived. This instance's
 * own writes count at once, before their answer is sent (`changed`), so a caller sees its own booking
 * gone from the very next slot answer it gets from here.
 *
 * Without a listening session nothing is trusted (`unchangedSince` is false, every answer is read
 * fresh), and a session that comes back forgets everything heard before, since what was said while
 * nobody listened is lost. Subscribers (the gateways' change feed) hear every change and the loss.
 */
@Injectable()
export class AvailabilityWatch {
  private readonly watch = new ChangeWatch();
  private readonly subscribers = new Set<(notice: AvailabilityNotice) => void>();

  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(SCHEDULING_CONFIG) private readonly config: SchedulingConfig,
  ) {
    if (!config.SLOT_MEMO_LISTEN) return;
    // On the service's one listening session (Platform.listen), which also wakes the outbox relay.
    platform.listen(availabilityChannel(platform.schema), {
      onNotification: (payload) => (payload === '*' ? this.lost() : this.changed(payload)),
      onListening: () => this.watch.forgetAll(),
      onLost: () => this.lost(),
    });
  }

  /** Whether changes are being heard now; without that, no memo is trusted. */
  isListening(): boolean {
    return this.config.SLOT_MEMO_LISTEN && this.platform.isListening();
  }

  /** The mark to keep with an answer: take it before the read the answer is computed from. */
  mark(): number {
    return this.watch.mark();
  }

  /** True when no change of the provider has been heard since `mark`, and nothing was missed. */
  unchangedSince(providerId: string, mark: number): boolean {
    return this.isListening() && this.watch.unchangedSince(providerId, mark);
  }

  /** A change of this provider's slots (heard, or made and committed by this instance). */
  changed(providerId: string): void {
    this.watch.changed(providerId);
    for (const subscriber of this.subscribers) subscriber({ type: 'changed', providerId: providerId.toLowerCase() });
  }

  /**
   * Hears every change from now on, and `lost` when changes may have been missed (the listening session
   * went, or a table was truncated); returns the unsubscribe.
   */
  subscribe(subscriber: (notice: AvailabilityNotice) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  private lost(): void {
    this.watch.forgetAll();
    for (const subscriber of this.subscribers) subscriber({ type: 'lost' });
  }
}
