import { Knex } from 'knex';
import { currentCorrelation, uuidv7 } from '@booking/platform';

export type StoredEvent<E = Record<string, unknown>> = {
  position: string;
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  data: E;
  occurredAt: string;
  correlationId: string | null;
};

type Row = {
  position: string;
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  data: unknown;
  occurred_at: Date;
  correlation_id: string | null;
};

const toStored = <E>(row: Row): StoredEvent<E> => ({
  position: row.position,
  eventId: row.event_id,
  streamId: row.stream_id,
  version: row.version,
  type: row.type,
  data: row.data as E,
  occurredAt: row.occurred_at.toISOString(),
  correlationId: row.correlation_id,
});

/**
 * Append-only event store. `(stream_id, version)` is unique, so two writers that read the same version
 * cannot both append: the second fails and nothing of its transaction survives.
 */
export class EventStore {
  async read<E>(db: Knex | Knex.Transaction, streamId: string): Promise<StoredEvent<E>[]> {
    const rows: Row[] = await db('events').where({ stream_id: streamId }).orderBy('version');
    return rows.map((r) => toStored<E>(r));
  }

  async append<E extends { type: string }>(
    trx: Knex.Transaction,
    streamId: string,
    streamType: string,
    expectedVersion: number,
    events: readonly E[],
    occurredAt: Date,
  ): Promise<StoredEvent<E>[]> {
    if (events.length === 0) return [];
    const correlationId = currentCorrelation()?.correlationId ?? null;
    const rows: Row[] = await trx('events')
      .insert(
        events.map((event, i) => ({
          event_id: uuidv7(),
          stream_id: streamId,
          stream_type: streamType,
          version: expectedVersion + i + 1,
          type: event.type,
          data: event,
          correlation_id: correlationId,
          occurred_at: occurredAt,
        })),
      )
      .returning(['position', 'event_id', 'stream_id', 'version', 'type', 'data', 'occurred_at', 'correlation_id']);
    return rows.map((r) => toStored<E>(r));
  }
}
