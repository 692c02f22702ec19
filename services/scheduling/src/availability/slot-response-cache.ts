import { BoundedLru } from '@booking/platform';

/** A rendered slot answer and what it was computed from. */
export type CachedSlots = {
  /** The provider row's version (its rules) the answer used. */
  readonly version: number;
  /** The busy ranges the answer used, exactly as the database returned them. */
  readonly busy: string;
  /** `AvailabilityWatch.mark()` taken before the read that last confirmed version and busy ranges. */
  readonly mark: number;
  /** Epoch ms: the answer holds for `now` before this instant (see `clientSlotsUnchangedUntil`). */
  readonly until: number;
  /** The JSON body and its strong ETag. */
  readonly body: Buffer;
  readonly etag: string;
};

/** Bytes held: the body, the busy text, the key and the tag (strings at two bytes a character, a bound). */
const weigh = (key: string, entry: CachedSlots) => entry.body.length + 2 * (entry.busy.length + key.length + entry.etag.length) + 64;

/**
 * Rendered slot answers by provider, dates and asked zone, bounded by bytes. An entry is a memo, not a
 * source of truth: the caller serves it while the clock is before `until` and either no change of the
 * provider was heard since `mark`, or a fresh read of the version and busy ranges equals what it was
 * computed from.
 */
export class SlotResponseCache extends BoundedLru<CachedSlots> {
  constructor(maxBytes: number) {
    super(maxBytes, weigh);
  }

  static key(providerId: string, from: string, to: string, zone: string): string {
    return `${providerId} ${from} ${to} ${zone}`;
  }
}
