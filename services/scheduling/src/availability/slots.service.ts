import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { Platform, ProblemError, query } from '@booking/platform';
import { BusyRange, computeSlotsForClientDates, localDateSpan, renderSlots } from '@booking/slot-engine';
import { ProvidersService } from '../providers/providers.service';
import { Clock } from '../shared/clock';
import { mapErrors } from '../shared/errors';
import { SlotsQuery } from './slots.request';

/** Free slots of a provider for client-local dates: live appointments (with buffers) and blocked time are busy. */
@Injectable()
export class SlotsService {
  private readonly knex: Knex;

  constructor(
    @Inject(Platform) platform: Platform,
    private readonly providers: ProvidersService,
    private readonly clock: Clock,
  ) {
    this.knex = platform.knex;
  }

  async slots(providerId: string, query: SlotsQuery) {
    return mapErrors(async () => {
      let provider = await this.providers.cached(providerId);
      for (let attempt = 1; ; attempt++) {
        const zone = query.timeZone ?? provider.rules.timezone;
        // The request schema guarantees either date, or both from and to.
        const from = query.date ?? query.from ?? '';
        const to = query.date ?? query.to ?? '';
        // Validates the zone and dates before any query; also gives the real-time span to load.
        const span = localDateSpan(from, to, zone);
        if (span.end - span.start > 32 * 86_400_000) {
          throw new ProblemError(400, 'RANGE_TOO_LONG', `from..to spans more than 31 days; query at most 31 days at once.`);
        }
        const margin = 2 * 86_400_000;
        const { version, busy } = await this.busy(providerId, span.start - margin, span.end + margin);
        if (version === null) {
          this.providers.forget(providerId);
          throw new ProblemError(404, 'PROVIDER_NOT_FOUND', `No provider with id ${providerId}.`);
        }
        // The cached rules are only used if the row still has their version (read in the same statement as the busy ranges).
        if (version !== provider.version && attempt < 3) {
          provider = await this.providers.refresh(providerId);
          continue;
        }
        const slots = computeSlotsForClientDates({
          rules: provider.rules,
          busy,
          from,
          to,
          clientZone: zone,
          now: this.clock.now().getTime(),
        });
        return {
          providerId,
          timeZone: zone,
          providerTimeZone: provider.rules.timezone,
          slotDurationMinutes: provider.rules.slotDurationMinutes,
          from,
          to,
          slots: renderSlots(slots, zone),
        };
      }
    });
  }

  /**
   * The provider's current version and its busy ranges (live appointments with their buffers, blocked
   * time) overlapping [from, to), in one prepared statement; instants come back as epoch milliseconds.
   */
  private async busy(providerId: string, from: number, to: number): Promise<{ version: number | null; busy: BusyRange[] }> {
    const { rows } = await query<{ v: number | null; s: number; e: number }>(this.knex, {
      name: 'scheduling.busy.v1',
      text: `SELECT version AS v, 0::float8 AS s, 0::float8 AS e FROM providers WHERE id = $1::uuid AND deleted_at IS NULL
             UNION ALL
             SELECT NULL, (extract(epoch FROM blocked_start) * 1000)::float8, (extract(epoch FROM blocked_end) * 1000)::float8 FROM appointments
              WHERE provider_id = $1 AND status IN ('PENDING','CONFIRMED') AND blocked_start < $2::timestamptz AND blocked_end > $3::timestamptz
             UNION ALL
             SELECT NULL, (extract(epoch FROM start_time) * 1000)::float8, (extract(epoch FROM end_time) * 1000)::float8 FROM blocked_times
              WHERE provider_id = $1 AND start_time < $2::timestamptz AND end_time > $3::timestamptz`,
      values: [providerId, new Date(to), new Date(from)],
    });
    let version: number | null = null;
    const busy: BusyRange[] = [];
    for (const r of rows) {
      if (r.v !== null) version = r.v;
      else busy.push({ start: r.s, end: r.e });
    }
    return { version, busy };
  }
}
