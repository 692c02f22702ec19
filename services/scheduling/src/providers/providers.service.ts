import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import type { AddBlockedTimeRequest, CreateProviderRequest, UpdateProviderRequest } from '@booking/contracts';
import { appendToOutbox, Platform, ProblemError } from '@booking/platform';
import { parseProviderRules, ProviderRulesInput } from '@booking/slot-engine';
import { AvailabilityWatch } from '../availability/availability-watch';
import { Clock } from '../shared/clock';
import { EventStore } from '../shared/event-store';
import { DEFAULT_CANCELLATION_POLICY, Provider, providerFromRow, providerResponse, ProviderRow, providerToRow } from './provider';
import { BlockedTime, blockedTimeAdded, blockedTimeRemoved, providerCreated, providerDeleted, ProviderEvent, providerUpdated } from './provider-events';

export type { BlockedTime } from './provider-events';

const notFound = (id: string) => new ProblemError(404, 'PROVIDER_NOT_FOUND', `No provider with id ${id}.`);

/** How many parsed providers one instance keeps; the oldest entry goes first. */
const CACHE_LIMIT = 10_000;

/**
 * Providers, their rules and their blocked time. Every change is appended to the provider's stream in
 * the event store and leaves through the outbox, in the transaction that makes it.
 */
@Injectable()
export class ProvidersService {
  private readonly knex: Knex;
  /**
   * Parsed providers by id. An entry is a hint, never the truth: every reader that acts on it checks
   * its version against the row in the same statement that reads or writes (bookings, slot queries),
   * so an update made by another instance is noticed at once and the entry replaced.
   */
  private readonly cache = new Map<string, Provider>();

  constructor(
    @Inject(Platform) private readonly platform: Platform,
    private readonly events: EventStore,
    private readonly clock: Clock,
    private readonly availability: AvailabilityWatch,
  ) {
    this.knex = platform.knex;
  }

  /** The provider as last read by this instance, or read now; callers verify `version` in their own statement. */
  async cached(id: string): Promise<Provider> {
    return this.cache.get(id) ?? this.refresh(id);
  }

  /** Reads the provider again (its cached version turned out stale) and caches it; 404 when gone. */
  async refresh(id: string): Promise<Provider> {
    try {
      const provider = await this.get(id);
      this.remember(provider);
      return provider;
    } catch (error) {
      this.cache.delete(id);
      throw error;
    }
  }

  /** After a change of the provider made here (committed or not): its cached rules and slot answers go. */
  forget(id: string): void {
    this.cache.delete(id);
    this.availability.changed(id);
  }

  private remember(provider: Provider): void {
    this.cache.delete(provider.id);
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(provider.id, provider);
  }

  /** The rules input of a create (no base) or of an update over the current provider (base). */
  private rulesInput(request: Partial<CreateProviderRequest>, base?: Provider): ProviderRulesInput {
    const r = base?.rules;
    return {
      timezone: (request.timeZone ?? r?.timezone) as string,
      slotDurationMinutes: (request.slotDurationMinutes ?? r?.slotDurationMinutes) as number,
      workingHours: (request.workingHours ?? (base ? providerResponse(base).workingHours : undefined)) as ProviderRulesInput['workingHours'],
      dateOverrides: (request.dateOverrides ?? (base ? providerResponse(base).dateOverrides : {})) as ProviderRulesInput['dateOverrides'],
      bufferBeforeMinutes: request.bufferBeforeMinutes ?? r?.bufferBeforeMinutes ?? 0,
      bufferAfterMinutes: request.bufferAfterMinutes ?? r?.bufferAfterMinutes ?? 0,
      minimumNoticeMinutes: request.minimumNoticeMinutes ?? r?.minimumNoticeMinutes ?? 0,
      bookingHorizonDays: request.bookingHorizonDays ?? r?.bookingHorizonDays ?? 90,
    };
  }

  async create(request: CreateProviderRequest): Promise<Provider> {
    const rules = parseProviderRules(this.rulesInput(request));
    const id = request.id ?? randomUUID();
    const provider = {
      id,
      name: request.name,
      rules,
      price: request.price ?? { amountMinor: 0, currency: 'USD' },
      cancellationPolicy: request.cancellationPolicy ?? DEFAULT_CANCELLATION_POLICY,
      contact: request.contact ?? {},
      version: 1,
    };
    return this.knex.transaction(async (trx) => {
      const inserted = await trx('providers').insert(providerToRow(provider)).onConflict('id').ignore().returning('*');
      if (inserted.length === 0) throw new ProblemError(409, 'PROVIDER_EXISTS', `A provider with id ${id} already exists.`);
      const created = providerFromRow(inserted[0]);
      await this.record(trx, created, 0, providerCreated(created));
      return created;
    });
  }

  async get(id: string, db: Knex | Knex.Transaction = this.knex): Promise<Provider> {
    const row: ProviderRow | undefined = await db('providers').where({ id }).whereNull('deleted_at').first();
    if (!row) throw notFound(id);
    return providerFromRow(row);
  }

  async list(limit: number, cursor?: string): Promise<{ items: Provider[]; nextCursor: string | null }> {
    const rows: ProviderRow[] = await this.knex('providers')
      .whereNull('deleted_at')
      .modify((q) => (cursor ? q.where('id', '>', cursor) : q))
      .orderBy('id')
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(providerFromRow);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  /** Changes apply to future bookings only: existing appointments keep the policy they snapshotted. */
  async update(id: string, request: UpdateProviderRequest): Promise<Provider> {
    return this.knex.transaction(async (trx) => {
      const row: ProviderRow | undefined = await trx('providers').where({ id }).whereNull('deleted_at').forUpdate().first();
      if (!row) throw notFound(id);
      const current = providerFromRow(row);
      const rules = parseProviderRules(this.rulesInput(request, current));
      const next = {
        ...current,
        name: request.name ?? current.name,
        rules,
        price: request.price ?? current.price,
        cancellationPolicy: request.cancellationPolicy ?? current.cancellationPolicy,
        contact: request.contact ?? current.contact,
        version: current.version + 1,
      };
      const [updated] = await trx('providers')
        .where({ id })
        .update({ ...providerToRow(next), updated_at: this.clock.now() })
        .returning('*');
      const provider = providerFromRow(updated);
      await this.record(trx, provider, current.version, providerUpdated(provider, Object.keys(request)));
      return provider;
    }).finally(() => this.forget(id));
  }

  /** Soft delete: the provider takes no new bookings; existing appointments stay as they are. */
  async remove(id: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const row: ProviderRow | undefined = await trx('providers').where({ id }).whereNull('deleted_at').forUpdate().first();
      if (!row) throw notFound(id);
      await trx('providers').where({ id }).update({ deleted_at: this.clock.now(), version: row.version + 1 });
      await this.record(trx, providerFromRow(row), row.version, providerDeleted(id));
    }).finally(() => this.forget(id));
  }

  async addBlockedTime(providerId: string, request: AddBlockedTimeRequest): Promise<BlockedTime> {
    return this.knex.transaction(async (trx) => {
      const provider = await this.lockProvider(trx, providerId);
      const [row] = await trx('blocked_times')
        .insert({
          id: randomUUID(),
          provider_id: providerId,
          start_time: new Date(request.start),
          end_time: new Date(request.end),
          reason: request.reason,
          note: request.note ?? null,
        })
        .returning('*');
      const blocked = blockedFromRow(row);
      await this.bumpVersion(trx, provider);
      await this.record(trx, provider, provider.version, blockedTimeAdded(blocked));
      return blocked;
    }).finally(() => this.forget(providerId));
  }

  async removeBlockedTime(providerId: string, blockedId: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const provider = await this.lockProvider(trx, providerId);
      const deleted = await trx('blocked_times').where({ id: blockedId, provider_id: providerId }).delete().returning('*');
      if (deleted.length === 0) throw new ProblemError(404, 'BLOCKED_TIME_NOT_FOUND', `No blocked time ${blockedId} for provider ${providerId}.`);
      await this.bumpVersion(trx, provider);
      await this.record(trx, provider, provider.version, blockedTimeRemoved(blockedFromRow(deleted[0])));
    }).finally(() => this.forget(providerId));
  }

  async listBlockedTimes(providerId: string, from?: string, to?: string): Promise<BlockedTime[]> {
    await this.get(providerId);
    const rows = await this.knex('blocked_times')
      .where({ provider_id: providerId })
      // A missing bound is an open end of the range; as a range overlap, the GiST index bounds the scan.
      .whereRaw(`tstzrange(start_time, end_time, '[)') && tstzrange(?::timestamptz, ?::timestamptz, '[)')`, [from ? new Date(from) : null, to ? new Date(to) : null])
      .orderBy('start_time')
      .limit(1000);
    return rows.map(blockedFromRow);
  }

  private async lockProvider(trx: Knex.Transaction, id: string): Promise<Provider> {
    const row: ProviderRow | undefined = await trx('providers').where({ id }).whereNull('deleted_at').forUpdate().first();
    if (!row) throw notFound(id);
    return providerFromRow(row);
  }

  private async bumpVersion(trx: Knex.Transaction, provider: Provider): Promise<void> {
    await trx('providers').where({ id: provider.id }).update({ version: provider.version + 1, updated_at: this.clock.now() });
  }

  private async record(trx: Knex.Transaction, provider: Provider, expectedVersion: number, { topic, type, data }: ProviderEvent) {
    const [stored] = await this.events.append(trx, provider.id, 'provider', expectedVersion, [{ type, ...data }], this.clock.now());
    await appendToOutbox(trx, this.platform.schema, [
      {
        topic,
        type,
        aggregateId: provider.id,
        aggregateVersion: stored.version,
        data,
        occurredAt: stored.occurredAt,
        eventId: stored.eventId,
      },
    ]);
  }
}

function blockedFromRow(row: { id: string; provider_id: string; start_time: Date; end_time: Date; reason: BlockedTime['reason']; note: string | null }): BlockedTime {
  return {
    id: row.id,
    providerId: row.provider_id,
    start: row.start_time.toISOString(),
    end: row.end_time.toISOString(),
    reason: row.reason,
    note: row.note,
  };
}
