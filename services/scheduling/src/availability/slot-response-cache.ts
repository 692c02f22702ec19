/** A rendered slot answer and what it was computed from. */
export type CachedSlots = {
  /** The provider row's version (its rules) the answer used. */
  readonly version: number;
  /** The busy ranges the answer used, exactly as the database returned them. */
  readonly busy: string;
  /** Epoch ms: the answer holds for `now` before this instant (see `clientSlotsUnchangedUntil`). */
  readonly until: number;
  /** The JSON body and its strong ETag. */
  readonly body: Buffer;
  readonly etag: string;
};

/**
 * Rendered slot answers by provider, dates and client zone, least recently used first out, bounded
 * by bytes. An entry is a memo, not a source of truth: the caller reads the provider's version and
 * busy ranges fresh on every request and uses the entry only when both equal what it was computed
 * from and the clock is still before `until`, so an answer is never staler than that read.
 */
export class SlotResponseCache {
  private readonly entries = new Map<string, CachedSlots>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  static key(providerId: string, from: string, to: string, zone: string): string {
    return `${providerId} ${from} ${to} ${zone}`;
  }

  get(key: string): CachedSlots | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CachedSlots): void {
    this.delete(key);
    const size = sizeOf(key, entry);
    // One answer may take at most a quarter of the budget (a 31-day answer is a few hundred kB).
    if (size > this.maxBytes / 4) return;
    this.entries.set(key, entry);
    this.bytes += size;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(oldest, old);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(key, entry);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

/** Bytes held: the body, the busy text and the key (strings at two bytes a character, a bound). */
const sizeOf = (key: string, entry: CachedSlots) => entry.body.length + 2 * (entry.busy.length + key.length + entry.etag.length) + 64;
