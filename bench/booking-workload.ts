import { bookingStatement } from '../services/scheduling/src/appointments/book-appointment.statement';
import { withPg } from './lib';

/*
 * The booking workloads, defined once for the service's loads (direct and through the gateway) and for
 * the pgbench anchor, so both sides book the same kind of slots with the same conflict mix:
 *
 * - uncontended: every request asks for a slot nobody asked for before (a free slot, always 201);
 * - contended: every slot is asked for twice, by two requests sent together (one 201, one 409), so
 *   exactly half the requests are conflicts and each loser waits on the winner's hour lock first.
 *
 * Request number k goes to provider k mod 4 (contended: pair number k), and to that provider's
 * `slotOf(floor(k / 4))`-th slot from the base day. `slotOf` scatters consecutive numbers across a block
 * of 31 days (so concurrent requests rarely share an hour, unless they are a contended pair) and fills
 * one block before the next: the first 31 days are the busiest, where the slot queries look.
 */

export type BookingWorkload = 'uncontended' | 'contended';
export const WORKLOADS: BookingWorkload[] = ['uncontended', 'contended'];

export const DAY_MS = 86_400_000;
export const SLOT_MS = 15 * 60_000;
const SLOTS_PER_DAY = 96;
export const BLOCK_DAYS = 31;
const BLOCK = BLOCK_DAYS * SLOTS_PER_DAY;
/** Coprime with BLOCK (2976 = 2^5 · 3 · 31), so k → k · STRIDE mod BLOCK visits every slot of a block once. */
const STRIDE = 1009;
/** Blocks that fit in the hot providers' 730-day horizon from a base up to two weeks ahead. */
const BLOCKS = 22;
export const PROVIDERS_PER_WORKLOAD = 4;

/** The n-th slot (0-based) a provider is asked for: an index of 15-minute slots from the base day. */
export function slotOf(n: number): number {
  if (n >= BLOCKS * BLOCK) throw new Error(`booking workload: slot ${n} is past the providers' horizon`);
  return Math.floor(n / BLOCK) * BLOCK + ((n % BLOCK) * STRIDE) % BLOCK;
}

/** Which provider (0-3) and slot the k-th request (0-based, in the order sent) asks for. */
export function target(workload: BookingWorkload, k: number): { provider: number; slot: number } {
  const n = workload === 'contended' ? Math.floor(k / 2) : k;
  return { provider: n % PROVIDERS_PER_WORKLOAD, slot: slotOf(Math.floor(n / PROVIDERS_PER_WORKLOAD)) };
}

/** A request body generator for the service's side: the k-th call books the k-th target. */
export function bookingRequests(workload: BookingWorkload, providers: string[], baseMs: number): () => string {
  let k = 0;
  return () => {
    const { provider, slot } = target(workload, k++);
    return JSON.stringify({
      providerId: providers[provider],
      clientId: `bench-${k}`,
      start: new Date(baseMs + slot * SLOT_MS).toISOString(),
      client: { timeZone: 'Asia/Tokyo' },
    });
  };
}

/** A real free booking as the service wrote it: its events and its projection row, to size the anchor's payloads. */
export type BookingSample = { events: { type: string; data: unknown }[]; appointment: Record<string, unknown> };

export async function sampleBooking(databaseUrl: string, providerId: string): Promise<BookingSample> {
  return withPg(databaseUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT to_jsonb(a) AS appointment,
              (SELECT jsonb_agg(jsonb_build_object('type', e.type, 'data', e.data) ORDER BY e.version) FROM scheduling.events e WHERE e.stream_id = a.id) AS events
         FROM scheduling.appointments a WHERE a.provider_id = $1 AND a.status = 'CONFIRMED' LIMIT 1`,
      [providerId],
    );
    if (!rows[0]) throw new Error('no booking to sample for the pgbench anchor');
    return { events: rows[0].events, appointment: rows[0].appointment };
  });
}

/** Provider ids the bench creates with fixed ids (the pgbench script names its providers by number). */
export const benchProviderId = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;

/** Replaces the one occurrence of `from` in the statement's text; fails if there is not exactly one. */
function edit(text: string, from: string | RegExp, to: string): string {
  const pattern = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(from.source, 'g');
  const matches = text.match(pattern)?.length ?? 0;
  if (matches !== 1) throw new Error(`pgbench anchor: could not adapt the booking statement (${pattern} matched ${matches} times)`);
  return text.replace(pattern, () => to);
}

/**
 * The booking statement the anchor runs: the service's own (`bookingStatement`: provider version,
 * blocked time, the hour locks, events, projection, outbox, NOTIFY), with one change of semantics kept
 * equal. pgbench 15 ends a client at its first error (it retries only serialization failures and
 * deadlocks), so the projection insert takes `ON CONFLICT DO NOTHING` and comes first, and the events
 * and outbox rows are inserted only from its returned row: a conflict writes nothing and commits, where
 * the service's conflict raises 23P01, writes nothing and rolls back (409). The anchor's conflict does
 * a little less work (the service's statement may have inserted its events before the constraint
 * fails), which can only favour the anchor.
 */
export function anchorStatement(): string {
  let text = bookingStatement('scheduling', false);
  const clauses = /\), appended AS \(([\s\S]*?)\), projected AS \(([\s\S]*?)\), published AS \(/.exec(text);
  if (!clauses) throw new Error('pgbench anchor: the booking statement no longer has appended, projected, published in that order');
  const [, appended, projected] = clauses;
  const gatedProjection = edit(projected, /\n\s*RETURNING 1\n/, ' ON CONFLICT DO NOTHING\n    RETURNING 1\n');
  const gatedEvents = edit(appended, 'FROM go, jsonb_to_recordset', 'FROM projected, jsonb_to_recordset');
  text = edit(text, clauses[0], `), projected AS (${gatedProjection}), appended AS (${gatedEvents}), published AS (`);
  return edit(text, 'FROM go, json_to_recordset', 'FROM projected, json_to_recordset');
}

/**
 * The pgbench script: the anchor statement, prepared, one per transaction, with payloads as large as a
 * real free booking's (two events, the projection row, two outbox envelopes); only ids and times vary,
 * assembled by string concatenation. pgbench keeps each client's variables from one transaction to
 * the next, so `:n` (defined as 0 with `-D n=0`) numbers a client's transactions, and with `:clients`
 * (`-D clients=C`) every transaction gets the request number k that `target` maps to a slot: k =
 * (n - 1) · C + client (uncontended); the pair number (n - 1) · C/2 + client/2 (contended: clients 2j
 * and 2j+1 ask for the same slot at their n-th transaction).
 */
export function pgbenchScript(workload: BookingWorkload, firstProvider: number, baseMs: number, sample: BookingSample): string {
  // pgbench would read `:name` as a variable; a space after each key's colon keeps JSON valid and inert.
  const literal = (value: unknown) => `'${JSON.stringify(value).replace(/":/g, '": ').replace(/'/g, "''")}'`;
  const pid = `('00000000-0000-4000-8000-0000000000' || lpad(:p::text, 2, '0'))`;
  // Ids unique across the run's pgbench runs: the workload, the client and its transaction number.
  const run = String(WORKLOADS.indexOf(workload) + 1).padStart(3, '0');
  const id = (group: string) => `('00000000-0000-4${run}-${group}' || lpad(:client_id::text, 3, '0') || '-' || lpad(:n::text, 12, '0'))`;
  const start = `('${new Date(baseMs).toISOString()}'::timestamptz + :slot * interval '15 minutes')`;
  const end = `(${start} + interval '15 minutes')`;
  const varying = new Set(['id', 'provider_id', 'start_time', 'end_time', 'blocked_start', 'blocked_end']);
  const rest = Object.fromEntries(Object.entries(sample.appointment).filter(([k]) => !varying.has(k)));
  const appointment =
    `('{"id": "' || ${id('a')} || '", "provider_id": "' || ${pid} || '", "start_time": "' || ${start}::text || '", "end_time": "' || ${end}::text ||` +
    ` '", "blocked_start": "' || ${start}::text || '", "blocked_end": "' || ${end}::text || '", ' || substr(${literal(rest)}, 2))`;
  const events = `('[' || ${sample.events
    .map((e, i) => `'{"event_id": "' || ${id(i ? 'c' : 'b')} || '", "version": ${i + 1}, "type": "${e.type}", "data": ' || ${literal(e.data)} || '}'`)
    .join(` || ',' || `)} || ']')`;
  const outbox = `('[' || ${sample.events
    .map(
      (e, i) =>
        `'{"event_id": "' || ${id(i ? 'c' : 'b')} || '", "topic": "scheduling.appointment.v1", "message_key": "' || ${id('a')} || '", "event_type": "${e.type}", "payload": {"eventId": "' || ${id(i ? 'c' : 'b')} || '", "type": "BenchmarkProbe", "schemaVersion": 1, "occurredAt": "2030-01-01T00:00:00.000Z", "aggregateId": "' || ${id('a')} || '", "aggregateVersion": ${i + 1}, "correlationId": "pgbench", "causationId": null, "data": ' || ${literal(e.data)} || '}}'`,
    )
    .join(` || ',' || `)} || ']')`;
  const values: Record<number, string> = { 1: pid, 2: '1', 3: start, 4: end, 5: id('a'), 6: `'pgbench'`, 7: 'now()', 8: events, 9: appointment, 10: outbox };
  const statement = anchorStatement()
    .replace(/\$(\d+)/g, (_, n: string) => `(${values[Number(n)]})`)
    .replace(/\s*\n\s*/g, ' ');
  const request = workload === 'contended' ? '(:n - 1) * (:clients / 2) + :client_id / 2' : '(:n - 1) * :clients + :client_id';
  // slotOf and target, in pgbench's integer arithmetic.
  const perBlock = `(:k / ${PROVIDERS_PER_WORKLOAD})`;
  return [
    `-- pgbench anchor, ${workload} workload (bench/booking-workload.ts)`,
    `\\set n :n + 1`,
    `\\set k ${request}`,
    `\\set p ${firstProvider} + :k % ${PROVIDERS_PER_WORKLOAD}`,
    `\\set slot (${perBlock} / ${BLOCK}) * ${BLOCK} + ((${perBlock} % ${BLOCK}) * ${STRIDE}) % ${BLOCK}`,
    `${statement};`,
    '',
  ].join('\n');
}

/**
 * What one pgbench run booked, read back from the database: its winners, and the events and outbox rows
 * they wrote (two each; anything more would be a loser's). Then removes those outbox rows: they are
 * the anchor's, not the platform's, and the relay would otherwise send them once the services go on.
 */
export async function collectAnchorOutcome(databaseUrl: string, providers: string[]): Promise<{ appointments: number; events: number; outbox: number }> {
  return withPg(databaseUrl, async (c) => {
    const { rows } = await c.query(
      `WITH a AS (SELECT id FROM scheduling.appointments WHERE provider_id = ANY($1::uuid[]))
       SELECT (SELECT count(*) FROM a)::int AS appointments,
              (SELECT count(*) FROM scheduling.events e JOIN a ON e.stream_id = a.id)::int AS events,
              (SELECT count(*) FROM scheduling.outbox o JOIN a ON o.message_key = a.id::text)::int AS outbox`,
      [providers],
    );
    await c.query(
      `DELETE FROM scheduling.outbox o USING scheduling.appointments a WHERE o.message_key = a.id::text AND a.provider_id = ANY($1::uuid[])`,
      [providers],
    );
    return rows[0];
  });
}
