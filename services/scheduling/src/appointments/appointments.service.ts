import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Knex } from 'knex';
import {
  AppointmentCommand,
  AppointmentEvent,
  AppointmentState,
  appointmentDecider,
  foldEvents,
  toIsoUtc,
} from '@booking/appointment-domain';
import { BookAppointmentRequest, ListAppointmentsQuery, TOPICS } from '@booking/contracts';
import {
  appendToOutbox,
  buildEnvelope,
  CorrelationContext,
  currentCorrelation,
  outboxChannel,
  Platform,
  ProblemError,
  query,
  withCorrelation,
  currentTraceparent,
  uuidv7,
} from '@booking/platform';
import { assertIanaZone } from '@booking/slot-engine';
import { AvailabilityWatch } from '../availability/availability-watch';
import { SCHEDULING_CONFIG, SchedulingConfig } from '../config';
import { Provider } from '../providers/provider';
import { ProvidersService } from '../providers/providers.service';
import { Clock } from '../shared/clock';
import { EventStore, StoredEvent } from '../shared/event-store';
import { toProblem } from '../shared/errors';
import { uuidParam } from '../shared/params';
import { AppointmentRow, appointmentResponse, AppointmentResponse, project, projectionRow, rowFromState } from './appointment.projection';
import { runBookingStatement, StoredAnswer } from './book-appointment.statement';
import { blockedRangeOf, checkSlot, slotBlocked, validateSlot } from './slot-check';
import { providerSnapshotOf, toWireEvent } from './wire-events';

export type Idempotency = { caller: string; key: string };
export type BookResult = { status: number; body: AppointmentResponse; replayed: boolean };

type LiveState = Exclude<AppointmentState, { status: 'NONE' }>;

/**
 * One command of a batch (see executeMany): the events it causes carry `correlation` (default: the
 * caller's, or a fresh one). `answers`: the id of the AppointmentRequested event the command answers
 * (a payment outcome names the request it was charged for); any other request's answer is refused.
 */
export type BatchCommand = { appointmentId: string; command: (at: string) => AppointmentCommand; correlation?: CorrelationContext; answers?: string };

/**
 * Appointment commands. Each runs in one transaction: lock the appointment, fold its stream, let the
 * pure decider decide, append the events with optimistic concurrency, update the projection (guarded
 * by the exclusion constraint) and write the public events to the outbox.
 */
@Injectable()
export class AppointmentsService {
  private readonly knex: Knex;

  constructor(
    @Inject(Platform) private readonly platform: Platform,
    @Inject(SCHEDULING_CONFIG) private readonly config: SchedulingConfig,
    private readonly providers: ProvidersService,
    private readonly events: EventStore,
    private readonly clock: Clock,
    private readonly availability: AvailabilityWatch,
  ) {
    this.knex = platform.knex;
  }

  /**
   * Books a slot in one statement (see book-appointment.statement.ts): the provider's rules come from
   * this instance's cache and are validated here, purely; the statement writes only if the provider
   * still has that version, no blocked time covers the slot and the Idempotency-Key is free, and the
   * exclusion constraint settles races with other bookings. A stale cached provider is re-read and
   * the booking retried.
   */
  async book(request: BookAppointmentRequest, idempotency?: Idempotency): Promise<BookResult> {
    try {
      assertIanaZone(request.client.timeZone, 'body.client.timeZone');
    } catch (error) {
      throw toProblem(error);
    }
    const requestHash = idempotency ? createHash('sha256').update(canonicalJson(request)).digest('hex') : '';
    try {
      let provider = await this.providers.cached(request.providerId).catch(unknownProvider(request.providerId));
      for (let attempt = 1; ; attempt++) {
        const booking = this.prepareBooking(request, provider);
        const outcome = await runBookingStatement(this.knex, this.platform.schema, {
          ...booking.params,
          // The service sends the body as JSON.stringify writes it, so this text is the answer's bytes.
          ...(idempotency && { idempotency: { ...idempotency, requestHash, responseText: JSON.stringify(booking.body) } }),
        });
        if (!outcome.locked) throw idempotencyKeyInUse();
        if (outcome.prior) return replay(outcome.prior, requestHash);
        if (outcome.providerVersion === null) {
          this.providers.forget(request.providerId);
          return unknownProvider(request.providerId)(new ProblemError(404, 'PROVIDER_NOT_FOUND', 'gone'));
        }
        if (outcome.providerVersion !== provider.version) {
          if (attempt >= 3) throw new ProblemError(503, 'PROVIDER_CHANGING', 'The provider is being changed right now; retry the booking.');
          provider = await this.providers.refresh(request.providerId).catch(unknownProvider(request.providerId));
          continue;
        }
        if (outcome.blocked) throw slotBlocked();
        if (outcome.appended !== booking.params.events.length) throw new Error(`booking statement appended ${outcome.appended} events`);
        this.availability.changed(provider.id);
        return { status: 201, body: booking.body, replayed: false };
      }
    } catch (error) {
      // A concurrent request with the same key may have committed after this statement's snapshot:
      // its record (not the constraint it made this one trip over) decides the answer.
      if (idempotency && !(error instanceof ProblemError)) {
        const prior = await this.knex('idempotency_keys').where({ caller: idempotency.caller, key: idempotency.key }).first();
        if (prior) return replay(prior, requestHash);
      }
      throw toProblem(error);
    }
  }

  /** Everything a booking writes, decided in memory: validation, decider, events, projection, outbox rows, response. */
  private prepareBooking(request: BookAppointmentRequest, provider: Provider) {
    const now = this.clock.now().getTime();
    const start = Date.parse(request.start);
    const end = validateSlot(provider, start, now, request.end ? Date.parse(request.end) : undefined);
    const appointmentId = uuidv7();
    const command: AppointmentCommand = {
      type: 'RequestAppointment',
      appointmentId,
      providerId: provider.id,
      clientId: request.clientId,
      start: toIsoUtc(start),
      end: toIsoUtc(end),
      bufferBeforeMinutes: provider.rules.bufferBeforeMinutes,
      bufferAfterMinutes: provider.rules.bufferAfterMinutes,
      price: provider.price,
      policy: provider.cancellationPolicy,
      client: {
        timeZone: request.client.timeZone,
        ...(request.client.email && { email: request.client.email }),
        ...(request.client.phone && { phone: request.client.phone }),
        ...(request.client.pushEndpoint && { pushToken: request.client.pushEndpoint }),
        ...(request.client.locale && { locale: request.client.locale }),
      },
      providerSnapshot: providerSnapshotOf(provider),
      holdExpiresAt: toIsoUtc(now + this.config.HOLD_TTL_SECONDS * 1000),
      at: toIsoUtc(now),
    };
    const initial = appointmentDecider.initialState();
    const decided = appointmentDecider.decide(command, initial);
    const state = decided.reduce(appointmentDecider.evolve, initial) as LiveState;
    const occurredAt = new Date(now);
    const occurredAtIso = occurredAt.toISOString();
    const correlationId = currentCorrelation()?.correlationId ?? null;
    const stored: StoredEvent<AppointmentEvent>[] = decided.map((data, i) => ({
      position: '',
      eventId: uuidv7(),
      streamId: appointmentId,
      version: i + 1,
      type: data.type,
      data,
      occurredAt: occurredAtIso,
      correlationId,
    }));
    const extra = withoutUndefined({ paymentMethod: request.paymentMethod });
    const envelopes = stored.map((event, i) => buildEnvelope(toWireEvent(event, state, i === 0 ? extra : {})));
    const traceparent = currentTraceparent();
    const row = projectionRow(state, occurredAtIso);
    const blocked = blockedRangeOf(provider, start, end);
    return {
      body: appointmentResponse(rowFromState(state, occurredAt)),
      params: {
        providerId: provider.id,
        providerVersion: provider.version,
        blockedFrom: blocked.from,
        blockedTo: blocked.to,
        appointmentId,
        correlationId,
        occurredAt,
        events: stored.map((e) => ({ event_id: e.eventId, version: e.version, type: e.type, data: e.data })),
        appointment: { ...row, policy: state.policy, client: JSON.parse(row.client) },
        outbox: envelopes.map((envelope) => ({
          event_id: envelope.eventId,
          topic: TOPICS.appointment,
          message_key: envelope.aggregateId,
          event_type: envelope.type,
          payload: envelope,
          trace_parent: traceparent,
        })),
      },
    };
  }

  /** Runs a command against an existing appointment; `trx` lets a caller share its transaction. */
  async execute(appointmentId: string, makeCommand: (at: string) => AppointmentCommand, trx?: Knex.Transaction): Promise<LiveState> {
    const run = async (t: Knex.Transaction) => (await this.executeMany(t, [{ appointmentId, command: makeCommand }]))[0];
    if (trx) return run(trx);
    const state = await this.knex.transaction(run);
    this.availability.changed(state.providerId);
    return state;
  }

  /**
   * Runs one command against each of several existing appointments (all distinct) in the caller's
   * transaction, in a constant number of prepared statements however many there are: one locks the
   * rows (in id order, so two batches sharing appointments cannot deadlock) and reads their streams,
   * the pure decider decides each, and one more appends every event, updates every projection row and
   * writes the outbox (with the relay's NOTIFY). Each command's events carry its own correlation (the
   * caller's, or a fresh one, when it gives none). Any error (an id that is not a UUID, an unknown
   * appointment, a transition the lifecycle refuses) throws and leaves the whole transaction to be
   * rolled back. Returns each appointment's state after its command. `notify: false` leaves out the
   * relay's NOTIFY, for a caller that wakes the relay itself once the transaction has committed
   * (`Platform.writeOutbox`).
   */
  async executeMany(trx: Knex.Transaction, items: readonly BatchCommand[], options: { notify?: boolean } = {}): Promise<LiveState[]> {
    if (items.length === 0) return [];
    try {
      const ids = items.map((item) => uuidParam(item.appointmentId, 'appointmentId'));
      if (new Set(ids).size !== ids.length) throw new Error('executeMany needs distinct appointments');
      const schema = this.platform.schema;
      const { rows } = await query<{ id: string; locked_version: number; event_id: string | null; data: AppointmentEvent | null }>(trx, {
        name: `${schema}.lock-streams.v3`,
        text: lockStreamsStatement(schema),
        values: [ids],
      });
      const streams = new Map<string, { lockedVersion: number; requestEventId: string | null; events: AppointmentEvent[] }>();
      for (const row of rows) {
        const stream = streams.get(row.id) ?? { lockedVersion: Number(row.locked_version), requestEventId: row.event_id, events: [] };
        if (row.data) stream.events.push(row.data);
        streams.set(row.id, stream);
      }
      const now = this.clock.now();
      const at = toIsoUtc(now.getTime());
      const updatedAt = now.toISOString();
      const events: Record<string, unknown>[] = [];
      const projections: Record<string, unknown>[] = [];
      const outbox: Record<string, unknown>[] = [];
      const states: LiveState[] = [];
      for (const [index, item] of items.entries()) {
        const id = ids[index];
        const stream = streams.get(id);
        if (stream && item.answers !== undefined && item.answers.toLowerCase() !== stream.requestEventId) {
          throw new ProblemError(
            422,
            'NOT_THIS_APPOINTMENTS_REQUEST',
            `appointment ${id} was requested by event ${stream.requestEventId}; this answers ${item.answers}`,
          );
        }
        // If the lock waited for another writer of this appointment, the events were read before that
        // writer committed, but the locked row is its newest version: read that stream again (rare).
        const state = !stream
          ? appointmentDecider.initialState()
          : stream.lockedVersion === stream.events.length
            ? foldEvents(stream.events)
            : foldEvents(
                (
                  await query<{ data: AppointmentEvent }>(trx, {
                    name: `${schema}.read-stream.v1`,
                    text: `SELECT data FROM ${schema}.events WHERE stream_id = $1::uuid ORDER BY version`,
                    values: [id],
                  })
                ).rows.map((r) => r.data),
              );
        // The decider refuses any command for an appointment that does not exist.
        const decided = appointmentDecider.decide(item.command(at), state);
        if (decided.length === 0) {
          states.push(state as LiveState);
          continue;
        }
        const next = decided.reduce(appointmentDecider.evolve, state) as LiveState;
        states.push(next);
        const correlation = item.correlation ?? currentCorrelation() ?? { correlationId: randomUUID() };
        withCorrelation(correlation, () => {
          decided.forEach((event, i) => {
            const eventId = uuidv7();
            const version = state.version + i + 1;
            events.push({ event_id: eventId, stream_id: id, version, type: event.type, data: event, correlation_id: correlation.correlationId });
            const envelope = buildEnvelope(toWireEvent({ eventId, version, data: event, occurredAt: updatedAt }, next));
            outbox.push({ event_id: envelope.eventId, topic: TOPICS.appointment, message_key: envelope.aggregateId, event_type: envelope.type, payload: envelope, trace_parent: currentTraceparent() });
          });
        });
        const row = projectionRow(next, updatedAt);
        projections.push({ ...row, policy: next.policy, client: JSON.parse(row.client) });
      }
      if (events.length === 0) return states;
      const { rows: written } = await query<{ appended: number; projected: number }>(trx, {
        name: `${schema}.write-many.v2`,
        text: writeManyStatement(schema),
        values: [updatedAt, JSON.stringify(events), JSON.stringify(projections), JSON.stringify(outbox), options.notify ?? true],
      });
      if (written[0].appended !== events.length || written[0].projected !== projections.length) {
        throw new Error(`executeMany wrote ${written[0].appended}/${events.length} events and ${written[0].projected}/${projections.length} rows`);
      }
      return states;
    } catch (error) {
      throw toProblem(error);
    }
  }

  /**
   * Moves a confirmed appointment to another slot of its provider in one transaction: the new slot is
   * re-validated, and the projection update is guarded by the exclusion constraint, so the old slot
   * is given up only if the new one is taken. Overlapping its own current slot is fine: a row never
   * conflicts with itself.
   */
  async reschedule(appointmentId: string, newStart: number, by: 'CLIENT' | 'PROVIDER'): Promise<LiveState> {
    try {
      const moved = await this.knex.transaction(async (trx) => {
        const locked = await trx('appointments').where({ id: appointmentId }).forUpdate().first('provider_id');
        if (!locked) throw new ProblemError(404, 'APPOINTMENT_NOT_FOUND', `No appointment with id ${appointmentId}.`);
        const state = await this.load(trx, appointmentId);
        const provider = await this.providers.get(locked.provider_id, trx);
        const now = this.clock.now().getTime();
        const newEnd = await checkSlot(trx, provider, newStart, now);
        return this.apply(
          trx,
          { type: 'RescheduleAppointment', appointmentId, newStart: toIsoUtc(newStart), newEnd: toIsoUtc(newEnd), by, at: toIsoUtc(now) },
          state,
        );
      });
      this.availability.changed(moved.providerId);
      return moved;
    } catch (error) {
      throw toProblem(error);
    }
  }

  private async load(db: Knex | Knex.Transaction, appointmentId: string): Promise<AppointmentState> {
    const stored = await this.events.read<AppointmentEvent>(db, appointmentId);
    return foldEvents(stored.map((e) => e.data));
  }

  private async apply(
    trx: Knex.Transaction,
    command: AppointmentCommand,
    state: AppointmentState,
    extra: Record<string, unknown> = {},
    now: Date = this.clock.now(),
  ): Promise<LiveState> {
    const decided = appointmentDecider.decide(command, state);
    if (decided.length === 0) {
      if (state.status === 'NONE') throw new Error('decider returned no events for a new stream');
      return state;
    }
    const stored = await this.events.append(trx, command.appointmentId, 'appointment', state.version, decided, now);
    const next = decided.reduce(appointmentDecider.evolve, state) as LiveState;
    await project(trx, next, now.toISOString(), state.status === 'NONE');
    await appendToOutbox(
      trx,
      this.platform.schema,
      stored.map((event, i) => toWireEvent(event as StoredEvent<AppointmentEvent>, next, i === 0 ? withoutUndefined(extra) : {})),
    );
    return next;
  }

  async get(appointmentId: string): Promise<AppointmentResponse> {
    return this.getWith(this.knex, appointmentId);
  }

  private async getWith(db: Knex | Knex.Transaction, appointmentId: string): Promise<AppointmentResponse> {
    const row: AppointmentRow | undefined = await db('appointments').where({ id: appointmentId }).first();
    if (!row) throw new ProblemError(404, 'APPOINTMENT_NOT_FOUND', `No appointment with id ${appointmentId}.`);
    return appointmentResponse(row);
  }

  async history(appointmentId: string) {
    const stored = await this.events.read<AppointmentEvent>(this.knex, appointmentId);
    if (stored.length === 0) throw new ProblemError(404, 'APPOINTMENT_NOT_FOUND', `No appointment with id ${appointmentId}.`);
    return stored.map((e) => ({ eventId: e.eventId, version: e.version, type: e.type, occurredAt: e.occurredAt, correlationId: e.correlationId, data: e.data }));
  }

  /** Keyset pagination on (start_time, id): stable under inserts, cheap on any page. */
  async list(query: ListAppointmentsQuery) {
    let after: { start: Date; id: string } | undefined;
    if (query.cursor) {
      const [start, id] = Buffer.from(query.cursor, 'base64url').toString('utf8').split('|');
      if (!start || !id || Number.isNaN(Date.parse(start)) || !/^[0-9a-f-]{36}$/.test(id)) {
        throw new ProblemError(400, 'INVALID_CURSOR', 'cursor is not one this API returned.');
      }
      after = { start: new Date(start), id };
    }
    const rows: AppointmentRow[] = await this.knex('appointments')
      .modify((q) => {
        if (query.providerId) q.where({ provider_id: query.providerId });
        if (query.clientId) q.where({ client_id: query.clientId });
        if (query.status) q.where({ status: query.status });
        if (query.from) q.where('start_time', '>=', new Date(query.from));
        if (query.to) q.where('start_time', '<', new Date(query.to));
        if (after) q.whereRaw('(start_time, id) > (?, ?)', [after.start, after.id]);
      })
      .orderBy([{ column: 'start_time' }, { column: 'id' }])
      .limit(query.limit + 1);
    const items = rows.slice(0, query.limit).map(appointmentResponse);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > query.limit && last ? Buffer.from(`${last.start}|${last.id}`).toString('base64url') : null,
    };
  }

  /**
   * Cancels PENDING holds whose TTL passed. Rows are claimed with SKIP LOCKED, so any number of
   * instances can sweep at once without blocking each other or a payment confirming the same row.
   */
  async expireHolds(batchSize = 100): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const due: { id: string }[] = await trx('appointments')
        .where({ status: 'PENDING' })
        .where('hold_expires_at', '<=', this.clock.now())
        .orderBy('hold_expires_at')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .select('id');
      await this.executeMany(
        trx,
        due.map(({ id }) => ({ appointmentId: id, command: (at: string) => ({ type: 'CancelAppointment', appointmentId: id, by: 'SYSTEM', reason: 'EXPIRED', at }) })),
      );
      return due.length;
    });
  }

  /** Rebuilds the appointments table from the event store, in one transaction. */
  async rebuildProjections(): Promise<number> {
    return this.knex.transaction(async (trx) => {
      await trx('appointments').delete();
      const streams: { stream_id: string; updated: Date }[] = await trx('events')
        .where({ stream_type: 'appointment' })
        .groupBy('stream_id')
        .select('stream_id', trx.raw('max(occurred_at) AS updated'));
      for (const { stream_id, updated } of streams) {
        const state = await this.load(trx, stream_id);
        if (state.status !== 'NONE') await project(trx, state, updated.toISOString(), true);
      }
      return streams.length;
    });
  }
}

/**
 * The recorded answer again. Parsing the recorded text keeps its key order, and the body has no
 * integer-like keys (which JavaScript objects would reorder), so it is sent as the same bytes.
 */
function replay(prior: StoredAnswer, requestHash: string): BookResult {
  if (prior.request_hash !== requestHash) {
    throw new ProblemError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body.');
  }
  const body = prior.response_text === null ? prior.response_body : JSON.parse(prior.response_text);
  return { status: prior.response_status, body: body as AppointmentResponse, replayed: true };
}

const idempotencyKeyInUse = () =>
  new ProblemError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry later.');

/** A provider that is missing is the booking request's mistake: 422 naming the field, not 404. */
const unknownProvider =
  (providerId: string) =>
  (error: unknown): never => {
    if (error instanceof ProblemError && error.getStatus() === 404) {
      throw new ProblemError(422, 'UNKNOWN_PROVIDER', `providerId ${providerId} names no provider.`);
    }
    throw error;
  };

/**
 * executeMany's lock and read: the appointment rows locked in id order, each with its stream. Each
 * stream is read through its (stream_id, version) index, one appointment at a time: the LATERAL
 * subquery (OFFSET 0 keeps the planner from flattening it into a join) leaves no other plan. As a
 * plain join, on tables never analysed (autovacuum off or behind) the planner took a hash join over a
 * sequential scan of every event ever stored, so each batch of payment outcomes cost more the more the
 * database had seen: the saga bench ran three times slower after the scheduling section's bookings.
 */
export const lockStreamsStatement = (schema: string) =>
  `SELECT a.id::text, a.version AS locked_version, e.event_id::text, e.data FROM ${schema}.appointments a
     LEFT JOIN LATERAL (SELECT ev.event_id, ev.data, ev.version FROM ${schema}.events ev WHERE ev.stream_id = a.id ORDER BY ev.version OFFSET 0) e ON true
    WHERE a.id = ANY($1::uuid[]) ORDER BY a.id, e.version FOR UPDATE OF a`;

/**
 * executeMany's writes in one statement: the events (the unique stream version still guards them),
 * the projection rows (every column but the id, from the rows as JSON), the outbox rows and, when $5,
 * the NOTIFY.
 */
const writeManyStatements = new Map<string, string>();
function writeManyStatement(schema: string): string {
  let text = writeManyStatements.get(schema);
  if (text) return text;
  const columns = [
    'provider_id', 'client_id', 'start_time', 'end_time', 'blocked_start', 'blocked_end', 'status', 'cancel_reason', 'price_minor',
    'currency', 'paid_minor', 'payment_id', 'fee_minor', 'refund_minor', 'hold_expires_at', 'policy', 'client', 'version', 'created_at', 'updated_at',
  ];
  text = `WITH appended AS (
    INSERT INTO ${schema}.events (event_id, stream_id, stream_type, version, type, data, correlation_id, occurred_at)
    SELECT e.event_id, e.stream_id, 'appointment', e.version, e.type, e.data, e.correlation_id, $1::timestamptz
      FROM jsonb_to_recordset($2::jsonb) AS e(event_id uuid, stream_id uuid, version int, type text, data jsonb, correlation_id text)
    RETURNING 1
  ), projected AS (
    UPDATE ${schema}.appointments a SET ${columns.map((c) => `${c} = r.${c}`).join(', ')}
      FROM jsonb_populate_recordset(NULL::${schema}.appointments, $3::jsonb) AS r WHERE a.id = r.id
    RETURNING 1
  ), published AS (
    INSERT INTO ${schema}.outbox (event_id, topic, message_key, event_type, payload, trace_parent)
    SELECT o.event_id, o.topic, o.message_key, o.event_type, o.payload, o.trace_parent
      FROM json_to_recordset($4::json) AS o(event_id uuid, topic text, message_key text, event_type text, payload json, trace_parent text)
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM appended)::int AS appended, (SELECT count(*) FROM projected)::int AS projected,
         CASE WHEN $5::boolean AND EXISTS (SELECT 1 FROM published) THEN pg_notify('${outboxChannel(schema)}', '') END AS notified`;
  writeManyStatements.set(schema, text);
  return text;
}

function withoutUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

/** JSON with sorted keys, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
