import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { Platform, ProblemError, query } from '@booking/platform';
import { BusyRange, clientSlotsUnchangedUntil, computeSlotsForClientDates, localDateSpan, renderSlots } from '@booking/slot-engine';
import { SCHEDULING_CONFIG, SchedulingConfig } from '../config';
import { ProvidersService } from '../providers/providers.service';
import { Clock } from '../shared/clock';
import { mapErrors } from '../shared/errors';
import { AvailabilityWatch } from './availability-watch';
import { SlotResponseCache } from './slot-response-cache';
import { SlotsQuery } from './slots.request';

/**
 * Free slots of a provider for client-local dates: live appointments (with buffers) and blocked time
 * are busy. The rendered answer is memoised by what it was computed from (see `SlotResponseCache`),
 * with a strong ETag of its bytes. A memo is served without touching the database while this instance
 * has heard no change of the provider since the read behind it (see `AvailabilityWatch`); otherwise
 * the provider's version and busy ranges are read, and the memo is used only if they are unchanged.
 */
@Injectable()
export class SlotsService {
  private readonly knex: Knex;
  private readonly cache: SlotResponseCache;

  constructor(
    @Inject(Platform) platform: Platform,
    private readonly providers: ProvidersService,
    private readonly clock: Clock,
    private readonly watch: AvailabilityWatch,
    @Inject(SCHEDULING_CONFIG) config: SchedulingConfig,
  ) {
    this.knex = platform.knex;
    this.cache = new SlotResponseCache(config.SLOT_CACHE_MAX_BYTES);
  }

  /** `verify`: read the provider's version and busy ranges even if no change was heard (a memo still serves if they match). */
  async slots(providerId: string, query: SlotsQuery, options: { verify?: boolean } = {}): Promise<SlotsAnswer> {
    return mapErrors(async () => {
      // The request schema guarantees either date, or both from and to.
      const from = query.date ?? query.from ?? '';
      const to = query.date ?? query.to ?? '';
      // Keyed by the zone asked for; no zone asked means the provider's, which is part of its rules.
      const key = SlotResponseCache.key(providerId, from, to, query.timeZone ?? '');
      const memo = this.cache.get(key);
      if (memo && !options.verify && this.watch.unchangedSince(providerId, memo.mark) && this.clock.now().getTime() < memo.until) return memo;

      let provider = await this.providers.cached(providerId);
      for (let attempt = 1; ; attempt++) {
        const zone = query.timeZone ?? provider.rules.timezone;
        // Validates the zone and dates before any query; also gives the real-time span to load.
        const span = localDateSpan(from, to, zone);
        if (span.end - span.start > 32 * 86_400_000) {
          throw new ProblemError(400, 'RANGE_TOO_LONG', `from..to spans more than 31 days; query at most 31 days at once.`);
        }
        // A slot starting in the span blocks [start - buffer before, end + buffer after): busy ranges
        // outside that reach cannot change the answer, and are not read (nor part of the memo's key).
        const rules = provider.rules;
        // Taken before the read: a change this read may have missed is heard after it.
        const mark = this.watch.mark();
        const { version, busy } = await this.busy(
          providerId,
          span.start - rules.bufferBeforeMinutes * 60_000,
          span.end + (rules.slotDurationMinutes + rules.bufferAfterMinutes) * 60_000,
        );
        if (version === null) {
          this.providers.forget(providerId);
          throw new ProblemError(404, 'PROVIDER_NOT_FOUND', `No provider with id ${providerId}.`);
        }
        // The cached rules are only used if the row still has their version (read in the same statement as the busy ranges).
        if (version !== provider.version && attempt < 3) {
          provider = await this.providers.refresh(providerId);
          continue;
        }
        const now = this.clock.now().getTime();
        // The same rules, busy ranges and dates, and a clock before `until`: the answer computed last
        // time, now confirmed by this read (so good from its mark on).
        const known = this.cache.get(key);
        if (known && known.version === version && known.busy === busy && now < known.until) {
          const confirmed = { ...known, mark };
          this.cache.set(key, confirmed);
          return confirmed;
        }

        const slots = computeSlotsForClientDates({ rules: provider.rules, busy: parseBusy(busy), from, to, clientZone: zone, now });
        const body = Buffer.from(
          JSON.stringify({
            providerId,
            timeZone: zone,
            providerTimeZone: provider.rules.timezone,
            slotDurationMinutes: provider.rules.slotDurationMinutes,
            from,
            to,
            slots: renderSlots(slots, zone),
          }),
        );
        const answer = {
          version,
          busy,
          mark,
          until: clientSlotsUnchangedUntil({ rules: provider.rules, from, to, clientZone: zone, now, slots }),
          body,
          etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
        };
        if (version === provider.version && answer.until > now) this.cache.set(key, answer);
        return answer;
      }
    });
  }

  /**
   * The provider's current version and its busy ranges (live appointments with their buffers, blocked
   * time) overlapping [from, to), in one prepared statement. The ranges come as one text, sorted,
   * `start,end;start,end` in epoch milliseconds (widened outwards to whole milliseconds), which is
   * also what a memoised answer is compared with. The overlap tests are written as range overlaps
   * so that the GiST indexes (the exclusion constraint's, blocked time's) bound the scan to the
   * window instead of every row of the provider.
   */
  private async busy(providerId: string, from: number, to: number): Promise<{ version: number | null; busy: string }> {
    const { rows } = await query<{ v: number; busy: string | null }>(this.knex, {
      name: 'scheduling.busy.v2',
      text: `SELECT p.version AS v,
               (SELECT string_agg(b.s || ',' || b.e, ';' ORDER BY b.s, b.e) FROM (
                  SELECT floor(extract(epoch FROM blocked_start) * 1000)::bigint AS s, ceil(extract(epoch FROM blocked_end) * 1000)::bigint AS e
                    FROM appointments
                   WHERE provider_id = $1::uuid AND status IN ('PENDING','CONFIRMED')
                     AND tstzrange(blocked_start, blocked_end, '[)') && tstzrange($2::timestamptz, $3::timestamptz, '[)')
                  UNION ALL
                  SELECT floor(extract(epoch FROM start_time) * 1000)::bigint, ceil(extract(epoch FROM end_time) * 1000)::bigint
                    FROM blocked_times
                   WHERE provider_id = $1::uuid AND tstzrange(start_time, end_time, '[)') && tstzrange($2::timestamptz, $3::timestamptz, '[)')
               ) b) AS busy
             FROM providers p WHERE p.id = $1::uuid AND p.deleted_at IS NULL`,
      values: [providerId, new Date(from), new Date(to)],
    });
    const row = rows[0];
    return row ? { version: row.v, busy: row.busy ?? '' } : { version: null, busy: '' };
  }
}

/** The JSON body, its strong ETag, and the instant (epoch ms, this service's clock) the clock alone changes it. */
export type SlotsAnswer = { readonly body: Buffer; readonly etag: string; readonly until: number };

/** Response header: milliseconds the answer holds unless the change feed announces its provider. */
export const AVAILABILITY_FRESH_FOR = 'Availability-Fresh-For';
/** An answer no clock will change is said to hold an hour: a cache asks again at least that often. */
export const MAX_FRESH_FOR_MS = 3_600_000;

/** `start,end;start,end` (epoch ms) → busy ranges. */
function parseBusy(text: string): BusyRange[] {
  if (text === '') return [];
  return text.split(';').map((pair) => {
    const comma = pair.indexOf(',');
    return { start: Number(pair.slice(0, comma)), end: Number(pair.slice(comma + 1)) };
  });
}
