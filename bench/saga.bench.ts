import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { Dispatcher, Pool } from 'undici';
import { fixKafkajsIdleTimer } from '@booking/platform';
import { BenchRow, cpuMs, drain, percentile, RunningService, withPg } from './lib';

const DAY = 86_400_000;

/** Times (ms since epoch) one booking passed each stage; `*Occurred` are the envelopes' occurredAt. */
type Sample = {
  sentAt?: number;
  respondedAt?: number;
  requestedSeen?: number;
  paymentOccurred?: number;
  paymentSeen?: number;
  confirmedOccurred?: number;
  confirmedAt?: number;
};

const STAGES: [string, keyof Sample, keyof Sample][] = [
  ['HTTP reply', 'sentAt', 'respondedAt'],
  ['Requested on Kafka', 'sentAt', 'requestedSeen'],
  ['charged (PaymentSucceeded occurredAt)', 'requestedSeen', 'paymentOccurred'],
  ['PaymentSucceeded on Kafka', 'paymentOccurred', 'paymentSeen'],
  ['confirmed (occurredAt)', 'paymentSeen', 'confirmedOccurred'],
  ['Confirmed on Kafka', 'confirmedOccurred', 'confirmedAt'],
];

/**
 * Booking → CONFIRMED through Kafka at a steady rate (scheduling → payment → scheduling), against a
 * bare kafkajs produce-to-consume round trip on the same broker at the same rate. A booking counts as
 * confirmed when scheduling's AppointmentConfirmed leaves its outbox, i.e. after the commit that made
 * it visible: an upper bound of "visible".
 */
export async function benchSaga(opts: {
  scheduling: RunningService;
  brokers: string[];
  namespace: string;
  databaseUrl: string;
  quick: boolean;
  /** Bookings per second and how long; the figures of record use the defaults (100/s, 20 s or 5 s quick). */
  rate?: number;
  seconds?: number;
  /** false: skip the bare-Kafka anchor (for profiling the saga alone). */
  anchor?: boolean;
  /** The pgbench anchor's uncontended bookings/s of the same run: the capacity's yardstick. */
  pgbenchBookingsPerSec?: number;
  /** Processes whose CPU per paid booking is reported (scheduling, payment, the broker). */
  processes: MeasuredProcess[];
}): Promise<BenchRow[]> {
  const { scheduling, brokers, namespace, databaseUrl, quick } = opts;
  // BENCH_SAGA_RATE / BENCH_SAGA_SECONDS explore other loads; the figures of record use the defaults.
  const rate = opts.rate ?? Number(process.env.BENCH_SAGA_RATE ?? 100);
  const seconds = opts.seconds ?? Number(process.env.BENCH_SAGA_SECONDS ?? (quick ? 5 : 20));
  const warmupSeconds = quick ? 3 : 10;
  // The services run with it; the bench's own clients should not spin either (see fixKafkajsIdleTimer).
  fixKafkajsIdleTimer();
  const kafka = new Kafka({ brokers, clientId: `${namespace}-bench`, logLevel: logLevel.NOTHING });

  // Earlier sections leave work behind (their bookings' events, relayed and consumed in the
  // background): the saga starts once the pipeline is idle, or it would queue behind that backlog.
  const drainedInMs = await drain(kafka, namespace, databaseUrl);

  const providerId = randomUUID();
  const created = await fetch(`${scheduling.url}/providers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id: providerId,
      name: 'Saga bench',
      timeZone: 'UTC',
      slotDurationMinutes: 5,
      workingHours: Object.fromEntries(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((d) => [d, ['00:00', '24:00']])),
      bookingHorizonDays: 730,
      price: { amountMinor: 4200, currency: 'EUR' },
    }),
  });
  if (created.status !== 201) throw new Error(`saga bench provider: ${created.status}`);

  const stages = new Map<string, Sample>();
  // The broker answers a fetch as soon as data arrives; the wait only bounds how often an idle reader asks
  // again (as the services' consumers: 100 ms). A shorter one spins both this process and the broker.
  const consumer = kafka.consumer({ groupId: `${namespace}-saga-bench-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  // BENCH_SAGA_STAGES=1 also reads the payment topic and every envelope, to say where the time goes;
  // the figures of record leave that work out of the load generator.
  const traced = process.env.BENCH_SAGA_STAGES === '1';
  await consumer.subscribe({
    topics: [`${namespace}.scheduling.appointment.v1`, ...(traced ? [`${namespace}.payment.v1`] : [])],
    fromBeginning: false,
  });
  let assigned!: () => void;
  const ready = new Promise<void>((resolve) => (assigned = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => assigned());
  await consumer.run({
    eachMessage: async ({ message }) => {
      const now = Date.now();
      const type = String(message.headers?.['event-type']);
      // Events can arrive before the HTTP reply that names their appointment has been read.
      const key = String(message.key);
      const sample = stages.get(key) ?? {};
      stages.set(key, sample);
      const occurred = () => (traced ? Date.parse((JSON.parse(String(message.value)) as { occurredAt: string }).occurredAt) : undefined);
      if (type === 'AppointmentRequested') sample.requestedSeen ??= now;
      else if (type === 'PaymentSucceeded' && sample.paymentSeen === undefined) {
        sample.paymentSeen = now;
        sample.paymentOccurred = occurred();
      } else if (type === 'AppointmentConfirmed' && sample.confirmedAt === undefined) {
        sample.confirmedAt = now;
        sample.confirmedOccurred = occurred();
      }
    },
  });
  await ready;

  /**
   * One booking; a request that fails on the network (a kept-alive connection the server closed just
   * then) is sent again with the same Idempotency-Key, so it can never book twice.
   */
  // undici's own request API on a keep-alive pool: the load generator shares the two cores with
  // everything it measures, and fetch() costs it several times as much per request.
  const pool = new Pool(scheduling.url, { connections: 64 });
  const book = async (start: string): Promise<{ id: string }> => {
    const key = randomUUID();
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await pool.request({
          path: '/appointments',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ providerId, clientId: 'bench', start, client: { timeZone: 'UTC' }, paymentMethod: 'tok_success' }),
        });
      } catch (error) {
        if (attempt < 3) continue;
        throw error;
      }
      const body = (await res.body.json()) as { id?: string; code?: string };
      if (res.statusCode !== 201 || !body.id) throw new Error(`${res.statusCode} ${body.code}`);
      return { id: body.id };
    }
  };

  const base = Math.floor(Date.now() / DAY) * DAY + 3 * DAY;
  let n = 0;
  const failures: string[] = [];
  /**
   * `count` bookings at `perSecond`, each recorded once its HTTP reply is in; then waits up to
   * `confirmWithinMs` for their confirmations.
   */
  const load = async (perSecond: number, count: number, booked: Set<string>, confirmWithinMs = 30_000) => {
    const inflight: Promise<void>[] = [];
    const started = Date.now();
    const first = n;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = first + Math.floor(((Date.now() - started) / 1000) * perSecond);
        while (n < due && n < first + count) {
          const start = new Date(base + n++ * 5 * 60_000).toISOString();
          const sentAt = Date.now();
          inflight.push(
            book(start).then(
              (body) => {
                const sample = stages.get(body.id) ?? {};
                Object.assign(sample, { sentAt, respondedAt: Date.now() });
                stages.set(body.id, sample);
                booked.add(body.id);
              },
              (error: Error) => void failures.push(error.message),
            ),
          );
        }
        if (n >= first + count) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await Promise.all(inflight);
    const deadline = Date.now() + confirmWithinMs;
    const confirmed = () => [...booked].filter((id) => stages.get(id)?.confirmedAt !== undefined).length;
    while (confirmed() < booked.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  };
  /** Booking → CONFIRMED latencies of some bookings, sorted; unconfirmed ones as Infinity. */
  const latenciesOf = (booked: Set<string>) =>
    [...booked]
      .map((id) => stages.get(id) as Sample)
      .map((s) => (s.confirmedAt !== undefined && s.sentAt !== undefined ? s.confirmedAt - s.sentAt : Infinity))
      .sort((a, b) => a - b);

  // A warm-up at the same rate, not counted: the figure is the steady state, not the JIT compilers'
  // first seconds in the services and the broker (a fresh `npm run bench -- --only saga` starts both cold).
  await load(rate, Math.round(rate * warmupSeconds), new Set());
  const booked = new Set<string>();
  const cpu = await cpuMeter(opts.processes, databaseUrl);
  await load(rate, rate * seconds, booked);
  const cpuPerBooking = await cpu.perBooking(booked.size);
  const statements = cpuPerBooking.statements;
  if (statements) {
    process.stderr.write(
      `saga at ${rate}/s: ${round(statements.total, 2)} statements per paid booking (${round(statements.execMs, 3)} ms executing), by statement:\n` +
        statements.each.map((st) => `  ${st.calls.toFixed(3)} × ${(st.ms / st.calls).toFixed(3)} ms  ${st.query}\n`).join(''),
    );
  }
  if (failures.length) throw new Error(`saga bench: ${failures.length} bookings failed, e.g. ${failures[0]}`);
  const samples = [...booked].map((id) => stages.get(id) as Sample);
  const latencies = latenciesOf(booked);
  const unconfirmed = latencies.filter((l) => l === Infinity).length;
  if (unconfirmed > 0) throw new Error(`saga bench: ${unconfirmed} of ${booked.size} bookings never confirmed`);
  // Where the time goes: median and p99 of each stage (from the previous stage's time).
  // Without BENCH_SAGA_STAGES only the first stage and the whole are known.
  const breakdown = STAGES.flatMap(([label, from, to]) => {
    const deltas = samples.flatMap((s) => (s[from] !== undefined && s[to] !== undefined ? [(s[to] as number) - (s[from] as number)] : [])).sort((a, b) => a - b);
    return deltas.length ? [`${label} ${percentile(deltas, 50)}/${percentile(deltas, 99)}`] : [];
  }).join(', ');

  // Capacity: steady rates stepped up from the fixed rate (down, if that one misses), each after a
  // short ramp that is not counted, until p99 booking → CONFIRMED passes 100 ms, a booking fails or
  // is not confirmed within 10 s, the rate passes the pgbench booking rate, or the time is up.
  const steps: { rate: number; p99: number; cpuMs: number; failed: number; ok: boolean }[] = [];
  const p99Target = 100;
  const fixedOk = percentile(latencies, 99) <= p99Target;
  const ladder = fixedOk ? [150, 200, 250, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000].filter((r) => r > rate) : [75, 50, 25, 10].filter((r) => r < rate);
  const stepSeconds = quick ? 3 : 6;
  const budgetMs = (quick ? 40 : 100) * 1000;
  const searchStarted = Date.now();
  let timeBound = false;
  for (const stepRate of ladder) {
    if (opts.pgbenchBookingsPerSec !== undefined && stepRate > opts.pgbenchBookingsPerSec) break;
    if (Date.now() - searchStarted > budgetMs) {
      timeBound = fixedOk;
      break;
    }
    await load(stepRate, Math.round(stepRate * (quick ? 1 : 2)), new Set(), 10_000);
    const stepBooked = new Set<string>();
    const stepCpu = await cpuMeter(opts.processes, databaseUrl);
    const failedBefore = failures.length;
    await load(stepRate, stepRate * stepSeconds, stepBooked, 10_000);
    const stepCpuMs = (await stepCpu.perBooking(stepBooked.size)).total;
    const stepP99 = percentile(latenciesOf(stepBooked), 99);
    const failed = failures.length - failedBefore;
    const ok = stepP99 <= p99Target && failed === 0;
    steps.push({ rate: stepRate, p99: stepP99, cpuMs: stepCpuMs, failed, ok });
    if (fixedOk !== ok) break;
  }
  const capacity = Math.max(0, ...(fixedOk ? [rate] : []), ...steps.filter((s) => s.ok).map((s) => s.rate));
  await Promise.all([consumer.disconnect(), pool.close()]);
  // A step past capacity leaves a backlog: let it through before the charges are counted.
  await drain(kafka, namespace, databaseUrl, 120_000);
  const anchor = opts.anchor === false ? { p50: NaN, p99: NaN } : await kafkaRoundTrip(kafka, namespace, rate, seconds);

  // Every confirmed paid booking has exactly one charge.
  const charges = await withPg(databaseUrl, async (c) =>
    (
      await c.query(
        `SELECT a.id, count(p.id)::int AS charges FROM scheduling.appointments a
           LEFT JOIN payment.payments p ON p.appointment_id = a.id::text AND p.status = 'SUCCEEDED'
          WHERE a.provider_id = $1 AND a.status = 'CONFIRMED' GROUP BY a.id HAVING count(p.id) <> 1`,
        [providerId],
      )
    ).rows,
  );
  if (charges.length) throw new Error(`CHARGE MISMATCH: ${charges.length} confirmed bookings without exactly one charge`);

  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const pg = opts.pgbenchBookingsPerSec;
  const cores = os.cpus().length;
  const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'not confirmed within 10 s');
  return [
    {
      section: 'saga',
      name: `booking → CONFIRMED p50 at ${rate}/s (${latencies.length} paid bookings)`,
      value: p50,
      unit: 'ms',
      anchorName: 'bare kafkajs produce→consume p50',
      anchorValue: anchor.p50,
      ratio: round(p50 / anchor.p50),
      target: '≤ 25 ms',
      pass: p50 <= 25,
      note: `stage p50/p99, ms: ${breakdown}`,
    },
    {
      section: 'saga',
      name: `booking → CONFIRMED p99 at ${rate}/s`,
      value: p99,
      unit: 'ms',
      anchorName: 'bare kafkajs produce→consume p99',
      anchorValue: anchor.p99,
      ratio: round(p99 / anchor.p99),
      target: '≤ 100 ms',
      pass: p99 <= 100,
      note: `every confirmed booking has exactly one charge; started after ${(drainedInMs / 1000).toFixed(1)} s waiting for the earlier sections' events to drain`,
    },
    {
      section: 'saga',
      name: `paid-booking capacity: highest steady rate with p99 booking → CONFIRMED ≤ ${p99Target} ms`,
      value: capacity,
      unit: 'bookings/s',
      ...(pg !== undefined && {
        anchorName: 'pgbench bookings/s (uncontended, same run)',
        anchorValue: round(pg),
        ratio: Math.round((capacity / pg) * 100) / 100,
        pass: capacity / pg >= 0.2,
      }),
      target: '≥ 0.2',
      note:
        `${rate}/s for ${seconds} s: p99 ${ms(p99)}; then ${stepSeconds} s steps after a ramp: ` +
        (steps.map((s) => `${s.rate}/s p99 ${ms(s.p99)}${s.failed ? ` (${s.failed} bookings failed)` : ''} (${round(s.cpuMs)} ms CPU/booking)`).join(', ') || 'none') +
        (timeBound ? `; stopped by the time bound, so capacity ≥ ${capacity}/s` : ''),
    },
    {
      section: 'saga',
      name: `CPU per paid booking at ${rate}/s (${cpuPerBooking.measured.join(' + ')})`,
      value: round(cpuPerBooking.total),
      unit: 'ms',
      ...(pg !== undefined && {
        anchorName: `pgbench machine time per booking (${cores} cores ÷ bookings/s)`,
        anchorValue: round((cores * 1000) / pg, 2),
        ratio: round(cpuPerBooking.total / ((cores * 1000) / pg)),
      }),
      note: `${cpuPerBooking.parts.map(([name, v]) => `${name} ${round(v, 2)}`).join(', ')} ms (utime + stime from /proc); the gateway is not in this path${statements ? `; ${round(statements.total, 1)} Postgres statements per paid booking (pg_stat_statements)` : ''}`,
    },
  ];
}

/** A process whose CPU the saga measures; no pid: not measurable here (say, an external broker). */
export type MeasuredProcess = { name: string; pid?: number };

/**
 * CPU (user + system) used between now and `perBooking`, per process, divided by the bookings made
 * meanwhile: the platform's processes, the Postgres backends serving the bench database (those
 * connected at the start; pools keep theirs), and this load generator (not counted in the total).
 */
async function cpuMeter(processes: MeasuredProcess[], databaseUrl: string) {
  const backends = await withPg(databaseUrl, async (c) =>
    (await c.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows.map((r) => r.pid as number),
  );
  const measured = processes.filter((p) => p.pid !== undefined);
  const postgres = () => backends.reduce((sum, pid) => sum + (cpuMs(pid) || 0), 0);
  const statementsBefore = await statementCounts(databaseUrl);
  const self = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  const before = { each: measured.map((p) => cpuMs(p.pid!)), postgres: postgres(), self: self() };
  return {
    perBooking: async (bookings: number) => {
      const each = measured.map((p, i) => (cpuMs(p.pid!) - before.each[i]) / bookings);
      const pgMs = (postgres() - before.postgres) / bookings;
      const total = each.reduce((a, b) => a + b, 0) + pgMs;
      const parts: [string, number][] = [
        ...measured.map((p, i): [string, number] => [p.name, each[i]]),
        [`postgres (${backends.length} backends)`, pgMs],
        ['load generator (not in the total)', (self() - before.self) / bookings],
        ...processes.filter((p) => p.pid === undefined).map((p): [string, number] => [`${p.name} (not measured)`, NaN]),
      ];
      const statementsAfter = statementsBefore && (await statementCounts(databaseUrl));
      const statements = statementsBefore && statementsAfter ? statementsPerBooking(statementsBefore, statementsAfter, bookings) : undefined;
      return { total, parts, measured: [...measured.map((p) => p.name), 'postgres'], statements };
    },
  };
}

type StatementCount = { query: string; calls: number; ms: number; rows: number };

/**
 * Statements run on the bench database so far, by statement (pg_stat_statements, when the server
 * preloads it; undefined otherwise): what a paid booking costs Postgres, statement by statement.
 */
async function statementCounts(databaseUrl: string): Promise<Map<string, StatementCount> | undefined> {
  try {
    return await withPg(databaseUrl, async (c) => {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const { rows } = await c.query(
        `SELECT queryid::text AS id, query, calls::float8 AS calls, total_exec_time AS ms, rows::float8 AS rows
           FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return new Map(rows.map((r) => [r.id as string, { query: r.query as string, calls: r.calls as number, ms: r.ms as number, rows: r.rows as number }]));
    });
  } catch {
    return undefined;
  }
}

/** Statements per paid booking between two counts: the total, and each statement's share, most called first. */
function statementsPerBooking(before: Map<string, StatementCount>, after: Map<string, StatementCount>, bookings: number) {
  const each = [...after].map(([id, a]) => {
    const b = before.get(id);
    return { query: a.query.replace(/\s+/g, ' ').slice(0, 140), calls: (a.calls - (b?.calls ?? 0)) / bookings, ms: (a.ms - (b?.ms ?? 0)) / bookings };
  });
  const counted = each.filter((s) => s.calls > 0).sort((x, y) => y.calls - x.calls);
  return { total: counted.reduce((sum, s) => sum + s.calls, 0), execMs: counted.reduce((sum, s) => sum + s.ms, 0), each: counted };
}

async function kafkaRoundTrip(kafka: Kafka, namespace: string, rate: number, seconds: number) {
  const topic = `${namespace}.bench.roundtrip`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `${namespace}-roundtrip`, maxWaitTimeInMs: 100 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  let assigned!: () => void;
  const ready = new Promise<void>((resolve) => (assigned = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => assigned());
  await consumer.run({
    eachMessage: async ({ message }) => {
      const at = sent.get(String(message.key));
      if (at !== undefined) latencies.push(Date.now() - at);
    },
  });
  await ready;
  const total = rate * seconds;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const key = String(i);
    sent.set(key, Date.now());
    void producer.send({ topic, acks: -1, messages: [{ key, value: 'x' }] });
  }
  const deadline = Date.now() + 15_000;
  while (latencies.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
