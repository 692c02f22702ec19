/** Keys whose last change is remembered one by one; past that, everything is forgotten at once. */
const TRACKED_LIMIT = 100_000;

/**
 * Whether something (a provider's slots, say) may have changed since a moment, told by a stream of
 * change notices (`changed(key)`) from a source that may have gaps (`forgetAll()` when one is possible).
 * A memo keeps the `mark()` taken before the read it was computed from, and stays good while no change
 * of its key was noticed after that mark and nothing was forgotten since. Pure: no clock, no I/O; the
 * owner decides when notices can be trusted at all.
 */
export class ChangeWatch {
  private seq = 0;
  /** Marks below this predate a gap: nothing taken then is trusted. */
  private floor = 0;
  private readonly lastChange = new Map<string, number>();

  /** The mark to keep with an answer: take it before the read the answer comes from. */
  mark(): number {
    return this.seq;
  }

  /** True when no change of `key` was noticed since `mark`, and nothing was forgotten since. */
  unchangedSince(key: string, mark: number): boolean {
    return mark >= this.floor && (this.lastChange.get(key.toLowerCase()) ?? 0) <= mark;
  }

  changed(key: string): void {
    if (this.lastChange.size >= TRACKED_LIMIT) this.forgetAll();
    this.seq += 1;
    this.lastChange.set(key.toLowerCase(), this.seq);
  }

  /** Notices may have been missed: every earlier mark is void. */
  forgetAll(): void {
    this.seq += 1;
    this.floor = this.seq;
    this.lastChange.clear();
  }
}
