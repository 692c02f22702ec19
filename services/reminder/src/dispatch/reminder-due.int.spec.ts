import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';
import { Client, Notification } from 'pg';
import { Envelope, EventData, TOPICS } from '@booking/contracts';
import {
  baseConfigShape,
  buildEnvelope,
  decodeEnvelope,
  loadConfig,
  migrate,
  OutgoingEvent,
  outboxChannel,
  outboxMigrations,
  Platform,
  prepareDatabase,
  withCorrelation,
} from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { expectKeepsContract } from '@booking/contracts/testing';
import { migrations } from '../migrations';
import { Contact, RemindersRepository } from '../reminders/reminders.repository';
import { clientContact, providerContact } from '../testing/fixtures';
import { SettableClock } from '../testing/settable-clock';
import { ReminderDispatcher } from './reminder-dispatcher';

const SCHEMA = 'reminder';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A claimed row as the claim used to hand it to node (pg's own parsing of the columns). */
type ClaimedRow = {
  reminderId: string;
  appointmentId: string;
  appointmentVersion: number;
  channel: 'EMAIL' | 'SMS' | 'PUSH';
  offsetMinutes: number;
  fireAt: Date;
  start: Date;
  end: Date;
  client: Contact;
  provider: Contact;
};

/** The JS path the SQL-built envelope replaced: ReminderDue data from the row, then the platform's buildEnvelope. */
function reminderDueEventInJs(reminder: ClaimedRow): OutgoingEvent {
  const data: EventData<'ReminderDue'> = {
    reminderId: reminder.reminderId,
    appointmentId: reminder.appointmentId,
    channel: reminder.channel,
    offsetMinutes: reminder.offsetMinutes,
    fireAt: reminder.fireAt.toISOString(),
    start: reminder.start.toISOString(),
    end: reminder.end.toISOString(),
    client: reminder.client,
    provider: reminder.provider,
  };
  return { topic: TOPICS.reminder, type: 'ReminderDue', aggregateId: reminder.appointmentId, aggregateVersion: reminder.appointmentVersion, data };
}

/** An outbox row; `wire` is the payload as the relay sends it (`payload::text`: the json text the claim built). */
type OutboxRow = { id: string; event_id: string; topic: string; message_key: string; event_type: string; payload: Envelope; wire: string };

/**
 * The ReminderDue envelopes the claim statement builds in Postgres: they must decode with the
 * contracts codec exactly as the notification service decodes them, and carry, key for key and in the
 * same key order, the values the JS envelope builder made from the same row (up to the event id,
 * correlation id and occurredAt, which are fresh per event either way). Only whitespace and the
 * spelling of escapes may differ: the outbox keeps the json text as Postgres' json_build_object wrote it.
 */
describe('dispatch: ReminderDue built by the claim statement', () => {
  const env = new TestEnvironment();
  const t0 = new Date('2031-03-01T12:00:00.000Z');
  const clock = new SettableClock(t0);
  let platform: Platform;
  let knex: Knex;
  let dispatcher: ReminderDispatcher;
  let listener: Client;
  const notifications: Notification[] = [];

  beforeAll(async () => {
    const config = loadConfig('reminder-test', baseConfigShape, env.env());
    platform = new Platform({ service: 'reminder', schema: SCHEMA, migrations, topics: [], config, poolMax: 4 });
    await prepareDatabase(env.databaseUrl, SCHEMA);
    await migrate(platform.knex, SCHEMA, [...outboxMigrations(SCHEMA), ...migrations]);
    knex = platform.knex;
    dispatcher = new ReminderDispatcher(new RemindersRepository(platform), clock);
    listener = new Client({ connectionString: env.databaseUrl });
    await listener.connect();
    listener.on('notification', (n) => notifications.push(n));
    await listener.query(`LISTEN ${outboxChannel(SCHEMA)}`);
  });

  afterEach(async () => {
    await knex.raw('TRUNCATE reminders, appointments, outbox');
    notifications.length = 0;
    clock.set(t0);
  });

  afterAll(async () => {
    await listener?.end();
    await platform?.knex.destroy();
    await env.destroy();
  });

  /** Writes a confirmed appointment (start/end given as SQL timestamptz text, to reach microseconds) and its SCHEDULED reminders. */
  async function seed(a: {
    start: string;
    end: string;
    client: Record<string, unknown>;
    provider?: Record<string, unknown>;
    version?: number;
    reminders: { channel: 'EMAIL' | 'SMS' | 'PUSH'; offsetMinutes: number; fireAt: string; version?: number; traceParent?: string }[];
  }): Promise<string> {
    const appointmentId = `appt-${randomUUID()}`;
    await knex.raw(
      `INSERT INTO appointments (appointment_id, version, status, start_time, end_time, client, provider)
       VALUES (?, ?, 'CONFIRMED', ?::timestamptz, ?::timestamptz, ?, ?)`,
      [appointmentId, a.version ?? 2, a.start, a.end, a.client, a.provider ?? providerContact],
    );
    for (const r of a.reminders) {
      await knex.raw(
        `INSERT INTO reminders (reminder_id, appointment_id, appointment_version, channel, offset_minutes, fire_at, status, trace_parent)
         VALUES (?, ?, ?, ?, ?, ?::timestamptz, 'SCHEDULED', ?)`,
        [randomUUID(), appointmentId, r.version ?? a.version ?? 2, r.channel, r.offsetMinutes, r.fireAt, r.traceParent ?? null],
      );
    }
    return appointmentId;
  }

  /** The SCHEDULED rows as the claim used to read them, before it runs. */
  async function scheduledRows(): Promise<Map<string, ClaimedRow>> {
    const rows = await knex('reminders as r')
      .join('appointments as a', 'a.appointment_id', 'r.appointment_id')
      .where('r.status', 'SCHEDULED')
      .select('r.reminder_id', 'r.appointment_id', 'r.appointment_version', 'r.channel', 'r.offset_minutes', 'r.fire_at', 'a.start_time', 'a.end_time', 'a.client', 'a.provider');
    return new Map(
      rows.map((r) => [
        r.reminder_id,
        {
          reminderId: r.reminder_id,
          appointmentId: r.appointment_id,
          appointmentVersion: r.appointment_version,
          channel: r.channel,
          offsetMinutes: r.offset_minutes,
          fireAt: r.fire_at,
          start: r.start_time,
          end: r.end_time,
          client: r.client,
          provider: r.provider,
        },
      ]),
    );
  }

  const outbox = (): Promise<OutboxRow[]> =>
    knex('outbox').orderBy('id').select('id', 'event_id', 'topic', 'message_key', 'event_type', 'payload', knex.raw('payload::text AS wire'));

  /** The message body the relay publishes for a row. */
  const wire = (row: OutboxRow) => Buffer.from(row.wire, 'utf8');

  /** What the JS path put on the wire for the same row (JSON.stringify of its envelope), with this event's ids and time. */
  function jsWire(row: ClaimedRow, like: Envelope): string {
    return JSON.stringify({ ...buildEnvelope(reminderDueEventInJs(row)), eventId: like.eventId, correlationId: like.correlationId, occurredAt: like.occurredAt });
  }

  /** A JSON text as JSON.stringify prints it: the same keys in the same order with the same values; whitespace and escape spelling normalised. */
  const tokens = (json: string): string => JSON.stringify(JSON.parse(json));

  it('writes each ReminderDue with the trace context of the event that planned its reminder (none without one)', async () => {
    const traceParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await seed({
      start: '2031-03-01T12:30:00Z',
      end: '2031-03-01T13:00:00Z',
      client: { timeZone: 'UTC', email: 'traced@example.com' },
      reminders: [
        { channel: 'EMAIL', offsetMinutes: 60, fireAt: '2031-03-01T11:30:00Z', traceParent },
        { channel: 'SMS', offsetMinutes: 30, fireAt: '2031-03-01T12:00:00Z' },
      ],
    });
    expect(await dispatcher.dispatchDue(10)).toMatchObject({ dispatched: 2 });
    const rows = await knex('outbox').orderBy('id').select('trace_parent', knex.raw(`payload->'data'->>'channel' AS channel`));
    expect(rows).toEqual([
      { channel: 'EMAIL', trace_parent: traceParent },
      { channel: 'SMS', trace_parent: null },
    ]);
  });

  it('decodes with the contracts codec and equals, on the wire, what the JS path made from the same rows', async () => {
    const awkward = {
      ...clientContact,
      name: `Zoë "Bobby" O'Brien \\ 李小龍 😀 \u0007`,
      timeZone: 'Asia/Kathmandu',
      locale: 'ne-NP',
      extra: { nested: [1, 2.5, true, null, 'x'], big: 12345678901234 },
    };
    const a = await seed({
      start: '2031-03-02T09:15:30.123456Z',
      end: '2031-03-02T09:45:30.999999Z',
      client: awkward,
      reminders: [
        { channel: 'EMAIL', offsetMinutes: 1440, fireAt: '2031-03-01T09:15:30.123456Z' },
        { channel: 'SMS', offsetMinutes: 1440, fireAt: '2031-03-01T09:15:30.123456Z' },
        { channel: 'PUSH', offsetMinutes: 60, fireAt: '2031-03-01T08:15:30.000001Z' },
      ],
    });
    const b = await seed({
      start: '2031-03-01T12:30:00Z',
      end: '2031-03-01T13:00:00Z',
      client: { timeZone: 'UTC', email: 'minimal@example.com' },
      provider: { timeZone: 'America/St_Johns' },
      version: 7,
      reminders: [{ channel: 'EMAIL', offsetMinutes: 30, fireAt: '2031-03-01T12:00:00Z' }],
    });
    const before = await scheduledRows();
    const started = new Date();

    const result = await dispatcher.dispatchDue(10);

    expect(result).toEqual({ asOf: clock.now(), locked: 4, dispatched: 4, cancelled: 0 });
    const rows = await outbox();
    expect(rows).toHaveLength(4);
    const seen = new Set<string>();
    for (const row of rows) {
      const decoded = decodeEnvelope(wire(row));
      const claimed = before.get(decoded.data.reminderId as string);
      if (!claimed) throw new Error(`outbox row for an unknown reminder: ${JSON.stringify(row.payload)}`);
      // The envelope as the notification service sees it.
      expect(decoded).toEqual({
        eventId: row.event_id,
        type: 'ReminderDue',
        schemaVersion: 1,
        occurredAt: expect.any(String),
        aggregateId: claimed.appointmentId,
        aggregateVersion: claimed.appointmentVersion,
        correlationId: expect.stringMatching(UUID),
        causationId: null,
        data: {
          reminderId: claimed.reminderId,
          appointmentId: claimed.appointmentId,
          channel: claimed.channel,
          offsetMinutes: claimed.offsetMinutes,
          fireAt: claimed.fireAt.toISOString(),
          start: claimed.start.toISOString(),
          end: claimed.end.toISOString(),
          client: claimed.client,
          provider: claimed.provider,
        },
      });
      expect(new Date(decoded.occurredAt).toISOString()).toBe(decoded.occurredAt);
      expect(new Date(decoded.occurredAt).getTime()).toBeGreaterThanOrEqual(started.getTime());
      expect(new Date(decoded.occurredAt).getTime()).toBeLessThanOrEqual(Date.now());
      // The row's own columns, which the relay uses for the key and headers.
      expect([row.topic, row.message_key, row.event_type]).toEqual([TOPICS.reminder, claimed.appointmentId, 'ReminderDue']);
      // What the JS path put on the wire, key order included, up to whitespace between tokens.
      expect(tokens(row.wire)).toBe(jsWire(claimed, decoded));
      // Every field declared (the awkward contact carries one of its own on purpose: readers keep it).
      const written = JSON.parse(row.wire) as Envelope;
      if (!('extra' in claimed.client)) expectKeepsContract({ topic: row.topic, type: row.event_type, schemaVersion: written.schemaVersion, data: written.data });
      seen.add(decoded.correlationId);
    }
    // A fresh correlation id per event, none shared with another or equal to an event id.
    expect(seen.size).toBe(4);
    expect(rows.some((r) => seen.has(r.event_id))).toBe(false);
    // Microseconds are truncated, as Date#toISOString truncates what pg parses.
    const first = decodeEnvelope(wire(rows[0]));
    expect(first.data).toMatchObject({ fireAt: '2031-03-01T08:15:30.000Z', start: '2031-03-02T09:15:30.123Z', end: '2031-03-02T09:45:30.999Z' });
    // In fire order, so the relay publishes each appointment's reminders in the order they fell due.
    expect(rows.map((r) => r.payload.data.fireAt)).toEqual([...rows.map((r) => r.payload.data.fireAt as string)].sort());
    expect(rows.map((r) => r.message_key).filter((k) => k === b)).toHaveLength(1);
    expect(rows.map((r) => r.message_key).filter((k) => k === a)).toHaveLength(3);
  });

  it('takes the correlation of the caller, when there is one, as the JS builder did', async () => {
    await seed({
      start: '2031-03-01T12:30:00Z',
      end: '2031-03-01T13:00:00Z',
      client: clientContact,
      reminders: [
        { channel: 'EMAIL', offsetMinutes: 60, fireAt: '2031-03-01T11:30:00Z' },
        { channel: 'SMS', offsetMinutes: 60, fireAt: '2031-03-01T11:30:00Z' },
      ],
    });
    const causationId = randomUUID();

    await withCorrelation({ correlationId: 'corr-42', causationId }, () => dispatcher.dispatchDue(10));

    const envelopes = (await outbox()).map((row) => decodeEnvelope(wire(row)));
    expect(envelopes.map((e) => [e.correlationId, e.causationId])).toEqual([
      ['corr-42', causationId],
      ['corr-42', causationId],
    ]);
  });

  it('counts what it locked, dispatched and cancelled, writes envelopes only for the dispatched, and wakes the relay once per claim that wrote any', async () => {
    await seed({
      start: '2031-03-01T12:30:00Z',
      end: '2031-03-01T13:00:00Z',
      client: clientContact,
      version: 3,
      reminders: [
        { channel: 'EMAIL', offsetMinutes: 60, fireAt: '2031-03-01T11:30:00Z', version: 2 },
        { channel: 'SMS', offsetMinutes: 60, fireAt: '2031-03-01T11:30:00Z', version: 3 },
        { channel: 'PUSH', offsetMinutes: 1, fireAt: '2031-03-01T12:29:00Z', version: 3 },
      ],
    });

    expect(await dispatcher.dispatchDue(10)).toMatchObject({ locked: 2, dispatched: 1, cancelled: 1 });
    expect((await outbox()).map((r) => [r.payload.data.channel, r.payload.aggregateVersion])).toEqual([['SMS', 3]]);
    await eventually(async () => notifications.length === 1, 5000, 'the relay woken');

    // Nothing due: nothing written, no wake-up.
    expect(await dispatcher.dispatchDue(10)).toMatchObject({ locked: 0, dispatched: 0, cancelled: 0 });
    // Everything left cancelled: no envelope, no wake-up either.
    await knex('appointments').update({ version: 4 });
    clock.set(new Date('2031-03-01T12:29:00.000Z'));
    expect(await dispatcher.dispatchDue(10)).toMatchObject({ locked: 1, dispatched: 0, cancelled: 1 });
    await listener.query('SELECT 1');
    expect(notifications).toHaveLength(1);
    expect(await outbox()).toHaveLength(1);
    expect(notifications[0].channel).toBe(outboxChannel(SCHEMA));
  });
});
