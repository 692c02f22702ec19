import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PgListener, Platform } from '@booking/platform';
import { SCHEDULING_CONFIG, SchedulingConfig } from '../config';

/** Providers whose last change is remembered one by one; past that, every memo is dropped at once. */
const TRACKED_LIMIT = 100_000;

export const availabilityChannel = (schema: string) => `${schema}_availability`;

/**
 * Tells whether a provider's slots may have changed since a moment, so that a memoised slot answer
 * can be served without reading the database again.
 *
 * Every change to what makes slots (appointments going live or not, or moving; blocked time; the
 * provider's rules) notifies `<schema>_availability` with the provider id at commit, whoever made it
 * (triggers, migration 0002). This instance listens on a session of its own and numbers what it hears:
 * a memo remembers the number (`mark`) taken before the read it was computed from, and stays good while
 * no change of its provider was heard after that number. A change committed after the read's snapshot
 * is heard after the mark; one committed before it is in the read. So a memo is stale only for the
 * time a notification takes to arrive (measured in milliseconds), and never once it has arrived.
 * This instance's own writes count at once, before their answer is sent (`changed`), so a caller sees
 * its own booking gone from the very next slot answer it gets from here.
 *
 * Without a listening session nothing is trusted (`unchangedSince` is false, every answer is read
 * fresh), and a session that comes back forgets everything heard before, since what was said while
 * nobody listened is lost.
 */
@Injectable()
export class AvailabilityWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private seq = 0;
  /** Marks below this predate a gap in listening (or a forgetting): nothing taken then is trusted. */
  private floor = 0;
  private readonly lastChange = new Map<string, number>();
  private readonly listener?: PgListener;

  constructor(@Inject(Platform) platform: Platform, @Inject(SCHEDULING_CONFIG) config: SchedulingConfig) {
    // Nothing to keep fresh without a memo.
    if (!config.SLOT_MEMO_LISTEN || config.SLOT_CACHE_MAX_BYTES === 0) return;
    this.listener = new PgListener(
      {
        databaseUrl: config.DATABASE_URL,
        channel: availabilityChannel(platform.schema),
        applicationName: `${platform.schema}-availability`,
        onNotification: (payload) => (payload === '*' ? this.forgetAll() : this.changed(payload)),
        onListening: () => this.forgetAll(),
        onLost: () => this.forgetAll(),
      },
      platform.logger,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }

  /** Whether changes are being heard now; without that, no memo is trusted. */
  isListening(): boolean {
    return this.listener?.isListening() ?? false;
  }

  /** The mark to keep with an answer: take it before the read the answer is computed from. */
  mark(): number {
    return this.seq;
  }

  /** True when no change of the provider has been heard since `mark`, and nothing was missed. */
  unchangedSince(providerId: string, mark: number): boolean {
    return this.isListening() && mark >= this.floor && (this.lastChange.get(providerId.toLowerCase()) ?? 0) <= mark;
  }

  /** A change of this provider's slots (heard, or made and committed by this instance). */
  changed(providerId: string): void {
    if (this.lastChange.size >= TRACKED_LIMIT) this.forgetAll();
    this.seq += 1;
    this.lastChange.set(providerId.toLowerCase(), this.seq);
  }

  private forgetAll(): void {
    this.seq += 1;
    this.floor = this.seq;
    this.lastChange.clear();
  }
}
