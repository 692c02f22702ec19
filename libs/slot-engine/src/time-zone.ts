import { IANAZone } from 'luxon';
import { describeValue, invalid } from './errors';
import { DAY_MS, HOUR_MS, LocalDate, MINUTE_MS, localDateFromEpochDay, parseLocalDate } from './local-date';

/*
 * Time zones.
 *
 * 1. Validation: only IANA Area/Location names (plus `UTC` / `Etc/UTC`) are accepted. Fixed offsets and
 *    abbreviations are rejected even where luxon/ICU would accept them (`EST`, `CET`, `PST`, `UTC+5`,
 *    `Etc/GMT+5`...), because they either ignore daylight-saving time or are ambiguous.
 *
 * 2. Resolution of a local wall time to an instant (the only place the engine uses luxon's zone data):
 *    - unambiguous wall time → the instant;
 *    - wall time inside a spring-forward gap → shifted forward by the length of the gap (02:30 → 03:30 EDT),
 *      which is what luxon does;
 *    - wall time inside a fall-back overlap → the FIRST (earlier) occurrence. Luxon's own choice here depends
 *      on the offset at the current clock time (`Settings.now()`), so it is not used: the engine must not
 *      depend on the clock.
 *    To make this cheap, the UTC offsets of a zone are indexed lazily per 8-day block (one luxon offset
 *    lookup per day, plus a bisection to the second for each day that contains a transition); resolving a
 *    wall time afterwards is integer arithmetic. The index is a pure memo of the tz database (bounded in size,
 *    see `clearTimeZoneCache`). Limitation: two transitions less than 24 hours apart that cancel each other out
 *    would be missed; the tz database has none.
 */

const EXAMPLE = 'an IANA time zone name such as America/New_York';
const AREA_LOCATION = /^[A-Z][A-Za-z_-]*(?:\/[A-Z][A-Za-z_-]*)+$/;
const UTC_NAMES = new Set(['UTC', 'Etc/UTC']);
const FIXED_OFFSET = /^(?:(?:UTC|GMT|UT|Z)\s*)?[+\-\u2212]\s*\d|^Etc\/GMT[+-]\d/i;
const ABBREVIATION = /^[A-Z]{2,6}(?:\d{1,2}(?:[A-Z]{2,5})?)?$/;

const zoneProblems = new Map<string, string | null>();
const MAX_ZONE_PROBLEM_ENTRIES = 2048;

function zoneProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be ${EXAMPLE}; got ${describeValue(name)}`;
  const cached = zoneProblems.get(name);
  if (cached !== undefined) return cached ?? undefined;
  const problem = computeZoneProblem(name);
  if (zoneProblems.size >= MAX_ZONE_PROBLEM_ENTRIES) zoneProblems.clear();
  zoneProblems.set(name, problem ?? null);
  return problem;
}

function computeZoneProblem(name: string): string | undefined {
  const got = describeValue(name);
  if (UTC_NAMES.has(name)) return undefined;
  if (FIXED_OFFSET.test(name.trim())) {
    return `must be ${EXAMPLE}; got ${got}, which is a fixed UTC offset (fixed offsets ignore daylight-saving time)`;
  }
  if (/^Etc\//i.test(name)) return `must be ${EXAMPLE} (use UTC or Etc/UTC for UTC); got ${got}`;
  if (ABBREVIATION.test(name)) {
    return `must be ${EXAMPLE}; got ${got}, which is an abbreviation (abbreviations are ambiguous and ignore daylight-saving time; only UTC is accepted)`;
  }
  if (!AREA_LOCATION.test(name) || !IANAZone.isValidZone(name)) {
    return `must be ${EXAMPLE}; got ${got}, which is not a known IANA time zone in Area/Location form`;
  }
  // ICU accepts names case-insensitively; insist on the real spelling so stored names are canonical.
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) {
    return `must be ${EXAMPLE}; got ${got} (names are case-sensitive: did you mean "${resolved}"?)`;
  }
  return undefined;
}

/**
 * True for a real IANA time zone name in Area/Location form (`America/New_York`, `Asia/Kathmandu`,
 * `America/Argentina/Buenos_Aires`, backward-compatible links such as `Asia/Calcutta`), or `UTC` / `Etc/UTC`.
 * False for fixed offsets (`+05:00`, `UTC+5`, `GMT+1`, `Etc/GMT+5`), abbreviations (`EST`, `PST`, `CET`, `GMT`,
 * `EST5EDT`), wrongly-cased and unknown names.
 */
export function isIanaZone(name: unknown): name is string {
  return zoneProblem(name) === undefined;
}

/**
 * Returns `name` unchanged if `isIanaZone(name)`, otherwise throws a `SlotEngineValidationError` on `field`
 * whose message says what is expected ("an IANA time zone name such as America/New_York") and why the value
 * was refused.
 */
export function assertIanaZone(name: unknown, field = 'timezone'): string {
  const problem = zoneProblem(name);
  if (problem !== undefined) invalid(field, problem);
  return name as string;
}

// ---------------------------------------------------------------------------------------------------------
// Offset index

interface Transition {
  /** First instant (epoch ms) with the new offset. */
  readonly at: number;
  /** Offsets in ms (local = utc + offset) before and from `at`. */
  readonly before: number;
  readonly after: number;
}

interface Block {
  readonly startOffset: number;
  readonly transitions: readonly Transition[];
}

const BLOCK_MS = 8 * DAY_MS;
const SAMPLE_MS = DAY_MS;
/** Every UTC offset in the tz database lies within ±16 h, so all instants with a given wall time lie within this. */
const REACH_MS = 18 * HOUR_MS;
const MAX_BLOCKS_PER_ZONE = 1024;
const MAX_ZONES = 1024;
const NO_TRANSITIONS: readonly Transition[] = [];

/** UTC offsets of one zone, indexed lazily per 8-day block. @internal */
export class ZoneOffsets {
  private readonly blocks = new Map<number, Block>();
  private readonly zone: IANAZone;

  constructor(readonly name: string) {
    this.zone = IANAZone.create(name);
  }

  /** UTC offset in ms at an instant. */
  offsetAt(t: number): number {
    const block = this.block(Math.floor(t / BLOCK_MS));
    let offset = block.startOffset;
    for (const tr of block.transitions) {
      if (tr.at > t) break;
      offset = tr.after;
    }
    return offset;
  }

  /**
   * The instant of a wall time given as "local epoch ms" (the wall time read as if it were UTC):
   * gap → shifted forward by the gap length; overlap → earliest occurrence.
   */
  resolveWall(wall: number): number {
    const lo = wall - REACH_MS;
    const hi = wall + REACH_MS;
    const first = this.offsetAt(lo);
    const transitions = this.transitionsIn(lo, hi);
    if (transitions.length === 0) return wall - first;

    let best = Number.POSITIVE_INFINITY;
    const consider = (offset: number): void => {
      const t = wall - offset;
      if (t < best && this.offsetAt(t) === offset) best = t;
    };
    consider(first);
    for (const tr of transitions) consider(tr.after);
    if (best !== Number.POSITIVE_INFINITY) return best;

    // No instant has this wall time: it is in a spring-forward gap. Shift forward by the gap length.
    for (const tr of transitions) {
      if (tr.after > tr.before && wall >= tr.at + tr.before && wall < tr.at + tr.after) return wall - tr.before;
    }
    return wall - first; // unreachable with consistent zone data
  }

  /** Transitions with `lo < at <= hi`. */
  private transitionsIn(lo: number, hi: number): readonly Transition[] {
    let found: Transition[] | undefined;
    const last = Math.floor(hi / BLOCK_MS);
    for (let index = Math.floor(lo / BLOCK_MS); index <= last; index++) {
      for (const tr of this.block(index).transitions) {
        if (tr.at > lo && tr.at <= hi) (found ??= []).push(tr);
      }
    }
    return found ?? NO_TRANSITIONS;
  }

  private block(index: number): Block {
    let block = this.blocks.get(index);
    if (block === undefined) {
      if (this.blocks.size >= MAX_BLOCKS_PER_ZONE) this.blocks.clear();
      block = this.buildBlock(index);
      this.blocks.set(index, block);
    }
    return block;
  }

  private rawOffset(t: number): number {
    const offset = Math.round(this.zone.offset(t) * MINUTE_MS);
    if (!Number.isFinite(offset)) throw new RangeError(`time zone data unavailable for ${this.name} at ${t}`);
    return offset;
  }

  private buildBlock(index: number): Block {
    const start = index * BLOCK_MS;
    const end = start + BLOCK_MS;
    const transitions: Transition[] = [];
    const startOffset = this.rawOffset(start);
    // A transition exactly at the block's first instant belongs to this block (the previous block finds
    // it at its end and leaves it out): without it, resolveWall would not see it from this side.
    const justBefore = this.rawOffset(start - 1000);
    if (justBefore !== startOffset) transitions.push({ at: start, before: justBefore, after: startOffset });
    let prevT = start;
    let prevOffset = startOffset;
    for (let t = start + SAMPLE_MS; t <= end; t += SAMPLE_MS) {
      const offset = this.rawOffset(t);
      if (offset !== prevOffset) this.findTransitions(prevT, prevOffset, t, offset, transitions);
      prevT = t;
      prevOffset = offset;
    }
    return { startOffset, transitions: transitions.filter((tr) => tr.at < end) };
  }

  /** Bisects (to the second) every transition between lo (offset loOffset) and hi (offset hiOffset). */
  private findTransitions(lo: number, loOffset: number, hi: number, hiOffset: number, out: Transition[]): void {
    let from = lo;
    let offset = loOffset;
    for (let guard = 0; offset !== hiOffset && guard < 8; guard++) {
      let l = from;
      let h = hi;
      while (h - l > 1000) {
        const mid = l + Math.floor((h - l) / 2000) * 1000;
        if (this.rawOffset(mid) === offset) l = mid;
        else h = mid;
      }
      const after = this.rawOffset(h);
      out.push({ at: h, before: offset, after });
      from = h;
      offset = after;
    }
  }
}

const tables = new Map<string, ZoneOffsets>();

/** The offset index of a zone that has already been validated. @internal */
export function zoneOffsets(zone: string): ZoneOffsets {
  let table = tables.get(zone);
  if (table === undefined) {
    if (tables.size >= MAX_ZONES) tables.clear();
    table = new ZoneOffsets(zone);
    tables.set(zone, table);
  }
  return table;
}

/**
 * Drops the memoised zone data (offset index and name checks). Never needed for correctness; useful for
 * cold-start benchmarks. The memo is bounded (at most ~1024 zones × 1024 blocks of 8 days).
 */
export function clearTimeZoneCache(): void {
  tables.clear();
  zoneProblems.clear();
}

// ---------------------------------------------------------------------------------------------------------
// Public conversions

/**
 * The instant (epoch ms) of local wall time `minutesFromMidnight` (0..1440; 1440 = the next day's 00:00)
 * on `date` in `zone`, with the engine's DST rules: in a spring-forward gap the time is shifted forward
 * by the gap length (America/New_York 2026-03-08 02:30 → 03:30 EDT); in a fall-back overlap the first
 * occurrence wins (2026-11-01 01:30 → 01:30 EDT = 05:30Z).
 */
export function resolveLocalTime(date: LocalDate, minutesFromMidnight: number, zone: string): number {
  const epochDay = parseLocalDate(date, 'date');
  if (!Number.isInteger(minutesFromMidnight) || minutesFromMidnight < 0 || minutesFromMidnight > 1440) {
    invalid('minutesFromMidnight', `must be an integer between 0 and 1440; got ${describeValue(minutesFromMidnight)}`);
  }
  assertIanaZone(zone, 'zone');
  return zoneOffsets(zone).resolveWall(epochDay * DAY_MS + minutesFromMidnight * MINUTE_MS);
}

/** First instant of `date` in `zone` (its 00:00, or the end of the gap if midnight does not exist that day). */
export function startOfLocalDay(date: LocalDate, zone: string): number {
  return resolveLocalTime(date, 0, zone);
}

/** The `yyyy-MM-dd` date of an instant as seen in `zone`. */
export function localDateOf(epochMs: number, zone: string): LocalDate {
  if (!Number.isFinite(epochMs)) invalid('epochMs', `must be a finite number of epoch milliseconds; got ${describeValue(epochMs)}`);
  assertIanaZone(zone, 'zone');
  return localDateFromEpochDay(localEpochDayOf(epochMs, zone));
}

/** Epoch day of an instant as seen in an already-validated zone. @internal */
export function localEpochDayOf(epochMs: number, zone: string): number {
  return Math.floor((epochMs + zoneOffsets(zone).offsetAt(epochMs)) / DAY_MS);
}
