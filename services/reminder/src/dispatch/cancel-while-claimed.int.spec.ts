import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Knex } from 'knex';
import { Platform } from '@booking/platform';
import { eventually, TestEnvironment } from '@booking/platform/testing';
import { AppointmentEventsHandler } from '../appointment-events/appointment-events.handler';
import { cancelled, confirmed, rescheduled, weekAfter } from '../testing/fixtures';
import { startReminderApp } from '../testing/reminder-app';
import { SettableClock } from '../testing/settable-clock';
import { ReminderDispatcher } from './reminder-dispatcher';

const HOUR = 3_600_000;
const GATE_LOCK = 271828;
const client = { timeZone: 'UTC', email: 'ada@example.com' };

/**
 * The race between a worker's claim and a cancellation or reschedule, made deterministic: the real
 * claim, run as production runs it (one statement, its own transaction), is stopped at the end of its
 * statement (every lock held, nothing committed) while the real event handler runs on another
 * connection, and the test moves on only once Postgres shows who waits for whom.
 * No background workers run (REMINDER_WORKERS=0) and the relay is stopped, so the outbox shows
 * exactly what each claim dispatched.
 */
describe('dispatch: cancellation and reschedule racing a worker that holds the rows', () => {
  const env = new TestEnvironment();
  const clock = new SettableClock(new Date('2031-02-03T10:00:00.000Z'));
  let app: INestApplication;
  let knex: Knex;
  let dispatcher: ReminderDispatcher;
  let handler: AppointmentEventsHandler;

  beforeAll(async () => {
    app = await startReminderApp(env, clock, { REMINDER_WORKERS: '0' });
    await app.get(Platform).relay.stop();
    knex = app.get(Platform).knex;
    dispatcher = app.get(ReminderDispatcher);
    handler = app.get(AppointmentEventsHandler);
    // The pause: a statement trigger on the claim's UPDATE of reminders, which fires at the end of the
    // claim statement (after its CTEs ran, before its commit). Armed by a row of claim_gate, which the
    // first claim takes (later ones skip it) and then waits for the advisory lock the test holds.
    await knex.raw(`
      CREATE TABLE claim_gate (armed boolean PRIMARY KEY);
      CREATE FUNCTION claim_gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_query() LIKE '%FOR UPDATE SKIP LOCKED%' THEN
          DELETE FROM claim_gate WHERE armed IN (SELECT armed FROM claim_gate FOR UPDATE SKIP LOCKED);
          IF FOUND THEN PERFORM pg_advisory_xact_lock(${GATE_LOCK}); END IF;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER claim_gate AFTER UPDATE ON reminders FOR EACH STATEMENT EXECUTE FUNCTION claim_gate();
    `);
  });

  afterEach(async () => {
    await knex('reminders').where({ status: 'SCHEDULED' }).update({ status: 'CANCELLED' });
  });

  afterAll(async () => {
    await app?.close();
    await env.destroy();
  });

  /** Resolves with the pid of the session running `statement` once it waits for a lock. */
  const blockedOn = (statement: string): Promise<number> =>
    eventually(async () => {
      const { rows } = await knex.raw(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ?`,
        [`%${statement}%`],
      );
      return rows.length === 1 ? (rows[0].pid as number) : undefined;
    }, 10000, `a session blocked on ${statement}`);

  /** Resolves once `pid` waits for a lock that `holder` holds. */
  const waitingFor = (pid: number, holder: number) =>
    eventually(async () => {
      const { rows } = await knex.raw('SELECT pg_blocking_pids(?) AS holders', [pid]);
      return (rows[0].holders as number[]).includes(holder);
    }, 10000, `session ${pid} waiting for ${holder}`);

  /**
   * Runs one real claim (`dispatchDue`, exactly as a worker calls it) and holds it at the end of its
   * statement until `during` (given the claim's backend pid) is done; returns the claim's result.
   */
  async function claimHeldAtEnd(limit: number, during: (claimPid: number) => Promise<void>) {
    const gate = await knex.transaction();
    let claiming: ReturnType<ReminderDispatcher['dispatchDue']> | undefined;
    try {
      await gate.raw('SELECT pg_advisory_xact_lock(?)', [GATE_LOCK]);
      await knex('claim_gate').insert({ armed: true });
      claiming = dispatcher.dispatchDue(limit);
      const claimPid = await blockedOn('FOR UPDATE SKIP LOCKED');
      await during(claimPid);
    } finally {
      await gate.commit();
      await knex('claim_gate').delete();
    }
    return claiming;
  }

  const reminders = (appointmentId: string) =>
    knex('reminders').where({ appointment_id: appointmentId }).orderBy('fire_at').select('reminder_id', 'status', 'attempts', 'appointment_version');

  const dispatchedIds = async (appointmentId: string): Promise<string[]> => {
    const rows = await knex('outbox').whereRaw(`payload->'data'->>'appointmentId' = ?`, [appointmentId]).select('payload');
    return rows.map((r) => r.payload.data.reminderId).sort();
  };

  async function confirmedAppointment(): Promise<{ appointmentId: string; start: Date }> {
    const appointmentId = randomUUID();
    const start = weekAfter(clock.now());
    await handler.plan(confirmed({ appointmentId, version: 2, start, client }));
    return { appointmentId, start };
  }

  /**
   * "A change to the appointment arrives while a worker holds its reminders", with the worker made
   * to finish first:
   * 1. another session is writing the appointment row (as the change itself would be, had it come a
   *    moment earlier), so the real claim that runs now holds the due reminders but skips the
   *    appointment, and pauses before its commit;
   * 2. `change` starts: it waits for that session, then writes the appointment row, then waits for
   *    the reminder rows the paused claim holds;
   * 3. the claim commits; the change gets the rows.
   */
  async function changeWhileClaimed(appointmentId: string, change: () => Promise<void>) {
    const busy = await knex.transaction();
    await busy.raw('SELECT 1 FROM appointments WHERE appointment_id = ? FOR NO KEY UPDATE', [appointmentId]);
    let changing: Promise<void> | undefined;
    try {
      const result = await claimHeldAtEnd(10, async (claimPid) => {
        changing = change();
        const changePid = await blockedOn('INSERT INTO appointments AS a');
        await busy.rollback();
        await waitingFor(changePid, claimPid);
      });
      await changing;
      return result;
    } finally {
      if (!busy.isCompleted()) await busy.rollback();
      await changing?.catch(() => undefined);
    }
  }

  it('a cancellation that arrives while a worker holds the reminders wins: the worker lets go, nothing is dispatched', async () => {
    const { appointmentId, start } = await confirmedAppointment();
    clock.set(new Date(start.getTime() - HOUR / 2));

    const result = await changeWhileClaimed(appointmentId, () => handler.cancel(cancelled({ appointmentId, version: 3, start, client })));

    expect(result).toMatchObject({ locked: 2, dispatched: 0, cancelled: 0 });
    expect((await reminders(appointmentId)).map((r) => [r.status, r.attempts])).toEqual([
      ['CANCELLED', 0],
      ['CANCELLED', 0],
    ]);
    expect(await dispatchedIds(appointmentId)).toEqual([]);
    expect((await dispatcher.dispatchDue(10)).locked).toBe(0);
  });

  it('a reschedule arriving while a worker holds the old reminders cancels them; only the new plan fires', async () => {
    const { appointmentId, start } = await confirmedAppointment();
    const newStart = new Date(start.getTime() + 2 * 24 * HOUR);
    clock.set(new Date(start.getTime() - HOUR / 2));

    const result = await changeWhileClaimed(appointmentId, () =>
      handler.plan(rescheduled({ appointmentId, version: 3, start: newStart, previousStart: start, client })),
    );

    expect(result.dispatched).toBe(0);
    const afterMove = await reminders(appointmentId);
    expect(afterMove.map((r) => `${r.status}@v${r.appointment_version}`)).toEqual(['CANCELLED@v2', 'CANCELLED@v2', 'SCHEDULED@v3', 'SCHEDULED@v3']);

    clock.set(new Date(newStart.getTime() - HOUR / 2));
    expect(await dispatcher.dispatchDue(10)).toMatchObject({ locked: 2, dispatched: 2 });
    expect(await dispatchedIds(appointmentId)).toEqual(afterMove.slice(2).map((r) => r.reminder_id).sort());
    const [due] = await knex('outbox').whereRaw(`payload->'data'->>'appointmentId' = ?`, [appointmentId]).select('payload');
    expect(due.payload.data.start).toBe(newStart.toISOString());
  });

  it('a cancellation arriving after the claim decided waits for its commit and cancels only what is left', async () => {
    const { appointmentId, start } = await confirmedAppointment();
    clock.set(new Date(start.getTime() - 23 * HOUR));
    let cancelling: Promise<void> | undefined;

    const result = await claimHeldAtEnd(10, async (claimPid) => {
      // The claim has decided (its statement ran to the end) and holds the appointment row FOR SHARE:
      // the cancellation cannot even record itself yet.
      cancelling = handler.cancel(cancelled({ appointmentId, version: 3, start, client }));
      await waitingFor(await blockedOn('INSERT INTO appointments AS a'), claimPid);
    });
    await cancelling;

    expect(result).toMatchObject({ locked: 1, dispatched: 1 });
    const [dayBefore, hourBefore] = await reminders(appointmentId);
    expect([dayBefore.status, hourBefore.status]).toEqual(['DISPATCHED', 'CANCELLED']);
    expect(await dispatchedIds(appointmentId)).toEqual([dayBefore.reminder_id]);
  });

  it('a second worker skips the rows the first one holds and takes the rest; each is dispatched once', async () => {
    const a = await confirmedAppointment();
    const b = await confirmedAppointment();
    clock.set(new Date(a.start.getTime() - HOUR / 2));
    let second: Awaited<ReturnType<ReminderDispatcher['dispatchDue']>> | undefined;
    let third: Awaited<ReturnType<ReminderDispatcher['dispatchDue']>> | undefined;

    const first = await claimHeldAtEnd(2, async () => {
      second = await dispatcher.dispatchDue(2);
      third = await dispatcher.dispatchDue(2);
    });

    expect([first.dispatched, second?.dispatched, third?.locked]).toEqual([2, 2, 0]);
    const all = [...(await reminders(a.appointmentId)), ...(await reminders(b.appointmentId))];
    expect(all.every((r) => r.status === 'DISPATCHED' && r.attempts === 1)).toBe(true);
    const ids = [...(await dispatchedIds(a.appointmentId)), ...(await dispatchedIds(b.appointmentId))];
    expect(ids.sort()).toEqual(all.map((r) => r.reminder_id).sort());
  });

  it('never dispatches a reminder whose appointment moved past the version that planned it', async () => {
    const { appointmentId, start } = await confirmedAppointment();
    await knex('appointments').where({ appointment_id: appointmentId }).update({ version: 3 });
    clock.set(new Date(start.getTime() - HOUR / 2));

    expect(await dispatcher.dispatchDue(10)).toMatchObject({ locked: 2, dispatched: 0, cancelled: 2 });
    expect((await reminders(appointmentId)).map((r) => r.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(await dispatchedIds(appointmentId)).toEqual([]);
  });
});
