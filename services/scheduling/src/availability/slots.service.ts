import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import { Platform, ProblemError } from '@booking/platform';
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
      const provider = await this.providers.get(providerId);
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
      const busy = await this.busy(providerId, new Date(span.start - margin), new Date(span.end + margin));
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
    });
  }

  private async busy(providerId: string, from: Date, to: Date): Promise<BusyRange[]> {
    const { rows } = await this.knex.raw<{ rows: { s: Date; e: Date }[] }>(
      `SELECT blocked_start AS s, blocked_end AS e FROM appointments
        WHERE provider_id = ? AND status IN ('PENDING','CONFIRMED') AND blocked_start < ? AND blocked_end > ?
       UNION ALL
       SELECT start_time, end_time FROM blocked_times WHERE provider_id = ? AND start_time < ? AND end_time > ?`,
      [providerId, to, from, providerId, to, from],
    );
    return rows.map((r) => ({ start: r.s.getTime(), end: r.e.getTime() }));
  }
}
