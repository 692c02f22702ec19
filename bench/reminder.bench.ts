/**
 * Reminder dispatch benchmark, on the real Postgres (a private database, dropped afterwards).
 *
 * (a) Raw SKIP LOCKED claim rate: N plain `pg` connections loop over short transactions until the
 *     queue is empty, in two forms: one statement, `WITH due AS (SELECT … WHERE status = 'SCHEDULED'
 *     AND fire_at <= $now ORDER BY fire_at LIMIT n FOR UPDATE SKIP LOCKED) UPDATE … SET status =
 *     'DISPATCHED'`, and the usual two, `SELECT … FOR UPDATE SKIP LOCKED` then `UPDATE … WHERE id = ANY`.
 * (b) The service's dispatch rate: N `ReminderWorkers` loops (the production class: one claim
 *     statement that also checks the appointment, writes the ReminderDue envelopes to the outbox and
 *     NOTIFYs the relay) over the same number of rows in the same table, reseeded identically, with
 *     the pool already holding N connections (as (a)'s clients are connected before its clock
 *     starts). Ratio = (b) / (a) for N = 1, 2, 4, batch size 100 throughout.
 * (c) Firing lateness: reminders due 1-4 s in the future, workers on the real clock with the default
 *     500 ms poll interval; lateness = dispatched_at − fire_at, p50 / p99 / max.
 * Kafka is not involved: the relay is not running, so ReminderDue rows stay in the outbox (truncated
 * between runs). Rates are the median of the repetitions.
 *
 * Run from the repository root (the build compiles bench/ too; `--quick`: 5,000 rows, 3 repetitions):
 *   npx tsc -p tsconfig.build.json && node -r ./tools/register-paths.js dist/bench/reminder.bench.js [--quick]
 * or import `runReminderBench`.
 * DATABASE_URL picks the server (default postgres://postgres@127.0.0.1:5432/booking_bench).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { baseConfigShape, loadConfig, migrate, outboxMigrations, Platform, prepareDatabase, quoteIdent } from '../libs/platform/src';
import { Clock, SystemClock } from '../services/reminder/src/clock';
import { loadReminderConfig } from '../services/reminder/src/config';
import { ReminderDispatcher } from '../services/reminder/src/dispatch/reminder-dispatcher';
import { ReminderWorkers } from '../services/reminder/src/dispatch/reminder-workers';
import { migrations } from '../services/reminder/src/migrations';
import { RemindersRepository } from '../services/reminder/src/reminders/reminders.repository';
import { seedScheduledReminders } from '../services/reminder/src/testing/seed';

export type ThroughputRow = {
  workers: number;
  /** Claim and update as one statement (the cheapest form of a SKIP LOCKED claim). */
  rawPerSec: number;
  /** SELECT … FOR UPDATE SKIP LOCKED, then UPDATE … WHERE id = ANY, in one transaction. */
  rawTwoStepPerSec: number;
  dispatchPerSec: number;
  /** dispatch / raw (single statement): the stricter of the two. */
  ratio: number;
  ratioTwoStep: number;
};
export type LatenessRow = { workers: number; reminders: number; p50Ms: number; p99Ms: number; maxMs: number };

export type ReminderBenchResult = {
  rows: number;
  batchSize: number;
  repetitions: number;
  throughput: ThroughputRow[];
  pollIntervalMs: number;
  lateness: LatenessRow[];
};

const SCHEMA = 'reminder';
const BATCH_SIZE = 100;
const POLL_INTERVAL_MS = 500;
const WORKER_COUNTS = [1, 2, 4];

const RAW_CLAIM = `
  WITH due AS (
    SELECT reminder_id FROM reminder.reminders
     WHERE status = 'SCHEDULED' AND fire_at <= $1
     ORDER BY fire_at
     LIMIT $2
     FOR UPDATE SKIP LOCKED
  )
  UPDATE reminder.reminders r
     SET status = 'DISPATCHED', attempts = r.attempts + 1, dispatched_at = $1, updated_at = $1
    FROM due
   WHERE r.reminder_id = due.reminder_id`;

const RAW_LOCK = `
  SELECT reminder_id FROM reminder.reminders
   WHERE status = 'SCHEDULED' AND fire_at <= $1
   ORDER BY fire_at
   LIMIT $2
   FOR UPDATE SKIP LOCKED`;

const RAW_UPDATE = `
  UPDATE reminder.reminders
     SET status = 'DISPATCHED', attempts = attempts + 1, dispatched_at = $1, updated_at = $1
   WHERE reminder_id = ANY($2::uuid[])`;

/** One claim transaction of the raw baseline; returns the rows it took. */
type RawClaim = (client: Client) => Promise<number>;

const rawSingleStatement: RawClaim = async (client) => {
  await client.query('BEGIN');
  const result = await client.query(RAW_CLAIM, [new Date(), BATCH_SIZE]);
  await client.query('COMMIT');
  return result.rowCount ?? 0;
};

const rawTwoStep: RawClaim = async (client) => {
  await client.query('BEGIN');
  const now = new Date();
  const locked = await client.query(RAW_LOCK, [now, BATCH_SIZE]);
  if (locked.rows.length > 0) await client.query(RAW_UPDATE, [now, locked.rows.map((r) => r.reminder_id)]);
  await client.query('COMMIT');
  return locked.rows.length;
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Bench {
  readonly platform: Platform;

  constructor(readonly databaseUrl: string) {
    const config = loadConfig('reminder-bench', baseConfigShape, { DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
    this.platform = new Platform({ service: 'reminder-bench', schema: SCHEMA, migrations, topics: [], config, poolMax: 8 });
  }

  async prepare(): Promise<void> {
    await prepareDatabase(this.databaseUrl, SCHEMA);
    await migrate(this.platform.knex, SCHEMA, [...outboxMigrations(SCHEMA), ...migrations]);
  }

  async reseed(count: number, fireAt: (i: number) => Date, perAppointment = 3): Promise<void> {
    await this.platform.knex.raw('TRUNCATE reminders, appointments, outbox');
    await seedScheduledReminders(this.platform.knex, { count, perAppointment, fireAt });
    await this.platform.knex.raw('ANALYZE reminders; ANALYZE appointments');
  }

  workers(count: number, clock: Clock): ReminderWorkers {
    const config = loadReminderConfig({
      DATABASE_URL: this.databaseUrl,
      LOG_LEVEL: 'silent',
      REMINDER_WORKERS: String(count),
      REMINDER_BATCH_SIZE: String(BATCH_SIZE),
      REMINDER_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    });
    const repository = new RemindersRepository(this.platform);
    return new ReminderWorkers(new ReminderDispatcher(repository, clock), repository, clock, config, this.platform);
  }

  /** (a): rows per second claimed by `connections` plain claim loops until the queue is empty. */
  async rawClaimRate(claim: RawClaim, connections: number, rows: number): Promise<number> {
    const clients = await Promise.all(
      Array.from({ length: connections }, async () => {
        const client = new Client({ connectionString: this.databaseUrl });
        await client.connect();
        return client;
      }),
    );
    try {
      const started = performance.now();
      const claimed = await Promise.all(
        clients.map(async (client) => {
          let total = 0;
          for (;;) {
            const taken = await claim(client);
            if (taken === 0) return total;
            total += taken;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const total = claimed.reduce((a, b) => a + b, 0);
      if (total !== rows) throw new Error(`raw claim took ${total} rows, expected ${rows}`);
      return rows / seconds;
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }

  /** (b): rows per second the service's workers dispatch (DISPATCHED + ReminderDue in the outbox). */
  async dispatchRate(workerCount: number, rows: number): Promise<number> {
    const workers = this.workers(workerCount, new SystemClock());
    const dispatched = () => workers.stats().reduce((sum, s) => sum + s.dispatched, 0);
    // Connect the loops' connections before the clock starts, as rawClaimRate does with its clients.
    await Promise.all(Array.from({ length: workerCount }, () => this.platform.knex.raw('SELECT pg_sleep(0.01)')));
    const started = performance.now();
    workers.start();
    while (dispatched() < rows) await sleep(1);
    const seconds = (performance.now() - started) / 1000;
    await workers.stop();
    const outbox = await this.platform.knex('outbox').count<{ count: string }[]>('* as count');
    if (Number(outbox[0].count) !== rows) throw new Error(`outbox holds ${outbox[0].count} events, expected ${rows}`);
    return rows / seconds;
  }

  /** (c): lateness of reminders that fall due while the workers run on the real clock. */
  async lateness(workerCount: number, count: number, spreadMs: number): Promise<LatenessRow> {
    const base = Date.now() + 1000;
    await this.reseed(count, (i) => new Date(base + Math.floor((i * spreadMs) / count)), 1);
    const workers = this.workers(workerCount, new SystemClock());
    workers.start();
    const deadline = base + spreadMs + 15_000;
    while (workers.stats().reduce((sum, s) => sum + s.dispatched, 0) < count) {
      if (Date.now() > deadline) throw new Error('lateness run did not finish');
      await sleep(20);
    }
    await workers.stop();
    const { rows } = await this.platform.knex.raw(
      `SELECT extract(epoch FROM dispatched_at - fire_at) * 1000 AS late FROM reminders ORDER BY late`,
    );
    const late = rows.map((r: { late: string }) => Number(r.late));
    return { workers: workerCount, reminders: count, p50Ms: percentile(late, 50), p99Ms: percentile(late, 99), maxMs: late[late.length - 1] };
  }

  async destroy(): Promise<void> {
    await this.platform.knex.destroy();
    const admin = new URL(this.databaseUrl);
    admin.pathname = '/postgres';
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(decodeURIComponent(new URL(this.databaseUrl).pathname.slice(1)))} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
}

export async function runReminderBench(opts: { quick?: boolean; databaseUrl?: string } = {}): Promise<ReminderBenchResult> {
  const rows = opts.quick ? 5_000 : 20_000;
  const repetitions = opts.quick ? 3 : 5;
  const url = new URL(opts.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/booking_bench');
  url.pathname = `/booking_reminder_bench_${randomBytes(4).toString('hex')}`;
  const bench = new Bench(url.toString());
  try {
    await bench.prepare();
    const pastDue = (i: number) => new Date(Date.now() - 3_600_000 + i);
    const throughput: ThroughputRow[] = [];
    for (const workers of WORKER_COUNTS) {
      const raw: number[] = [];
      const rawTwo: number[] = [];
      const dispatch: number[] = [];
      for (let r = 0; r < repetitions; r++) {
        await bench.reseed(rows, pastDue);
        raw.push(await bench.rawClaimRate(rawSingleStatement, workers, rows));
        await bench.reseed(rows, pastDue);
        rawTwo.push(await bench.rawClaimRate(rawTwoStep, workers, rows));
        await bench.reseed(rows, pastDue);
        dispatch.push(await bench.dispatchRate(workers, rows));
      }
      const [rawPerSec, rawTwoStepPerSec, dispatchPerSec] = [median(raw), median(rawTwo), median(dispatch)];
      throughput.push({
        workers,
        rawPerSec,
        rawTwoStepPerSec,
        dispatchPerSec,
        ratio: dispatchPerSec / rawPerSec,
        ratioTwoStep: dispatchPerSec / rawTwoStepPerSec,
      });
    }
    const latenessCount = opts.quick ? 600 : 3_000;
    const lateness = [await bench.lateness(1, latenessCount, 3_000), await bench.lateness(4, latenessCount, 3_000)];
    return { rows, batchSize: BATCH_SIZE, repetitions, throughput, pollIntervalMs: POLL_INTERVAL_MS, lateness };
  } finally {
    await bench.destroy();
  }
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    const r = await runReminderBench({ quick: argv.includes('--quick') });
    const num = (n: number, digits = 0) => n.toFixed(digits).padStart(12);
    console.log(`reminder dispatch: ${r.rows} due rows, batch ${r.batchSize}, median of ${r.repetitions}`);
    console.log(
      `${'workers'.padEnd(8)}${'raw 1-stmt/s'.padStart(14)}${'raw 2-stmt/s'.padStart(14)}${'worker/s'.padStart(12)}${'vs 1-stmt'.padStart(11)}${'vs 2-stmt'.padStart(11)}`,
    );
    for (const t of r.throughput) {
      console.log(
        `${String(t.workers).padEnd(8)}${num(t.rawPerSec, 0).padStart(14)}${num(t.rawTwoStepPerSec, 0).padStart(14)}${num(t.dispatchPerSec)}${t.ratio.toFixed(2).padStart(11)}${t.ratioTwoStep.toFixed(2).padStart(11)}`,
      );
    }
    console.log(`firing lateness (dispatched_at - fire_at), poll interval ${r.pollIntervalMs} ms, due over 3 s`);
    console.log(`${'workers'.padEnd(10)}${'reminders'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}`);
    for (const l of r.lateness) {
      console.log(
        `${String(l.workers).padEnd(10)}${String(l.reminders).padStart(10)}${l.p50Ms.toFixed(1).padStart(10)}${l.p99Ms.toFixed(1).padStart(10)}${l.maxMs.toFixed(1).padStart(10)}`,
      );
    }
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
