import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Dispatcher, Pool } from 'undici';
import { fixKafkajsIdleTimer } from '@booking/platform';
import { BenchRow, percentile, RunningService, withPg } from './lib';

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
  /** `count` bookings at `rate` per second, each recorded once its HTTP reply is in; then waits for their confirmations. */
  const load = async (count: number, booked: Set<string>) => {
    const inflight: Promise<void>[] = [];
    const started = Date.now();
    const first = n;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = first + Math.floor(((Date.now() - started) / 1000) * rate);
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
    const deadline = Date.now() + 30_000;
    const confirmed = () => [...booked].filter((id) => stages.get(id)?.confirmedAt !== undefined).length;
    while (confirmed() < booked.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  };
  // A warm-up at the same rate, not counted: the figure is the steady state, not the JIT compilers'
  // first seconds in the services and the broker (a fresh `npm run bench -- --only saga` starts both cold).
  await load(Math.round(rate * warmupSeconds), new Set());
  const booked = new Set<string>();
  await load(rate * seconds, booked);
  await Promise.all([consumer.disconnect(), pool.close()]);
  if (failures.length) throw new Error(`saga bench: ${failures.length} bookings failed, e.g. ${failures[0]}`);
  const samples = [...booked].map((id) => stages.get(id) as Sample);
  const latencies = samples
    .flatMap((s) => (s.confirmedAt !== undefined && s.sentAt !== undefined ? [s.confirmedAt - s.sentAt] : []))
    .sort((a, b) => a - b);
  const unconfirmed = booked.size - latencies.length;
  if (unconfirmed > 0) throw new Error(`saga bench: ${unconfirmed} of ${booked.size} bookings never confirmed`);
  // Where the time goes: median and p99 of each stage (from the previous stage's time).
  // Without BENCH_SAGA_STAGES only the first stage and the whole are known.
  const breakdown = STAGES.flatMap(([label, from, to]) => {
    const deltas = samples.flatMap((s) => (s[from] !== undefined && s[to] !== undefined ? [(s[to] as number) - (s[from] as number)] : [])).sort((a, b) => a - b);
    return deltas.length ? [`${label} ${percentile(deltas, 50)}/${percentile(deltas, 99)}`] : [];
  }).join(', ');

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

  const anchor = opts.anchor === false ? { p50: NaN, p99: NaN } : await kafkaRoundTrip(kafka, namespace, rate, seconds);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
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
  ];
}

/**
 * Waits until both services' outboxes are empty and their consumer groups have committed every
 * message of the topics they read; returns how long that took.
 */
async function drain(kafka: Kafka, namespace: string, databaseUrl: string): Promise<number> {
  const started = Date.now();
  const groups = [
    { groupId: `${namespace}.payment`, topic: `${namespace}.scheduling.appointment.v1` },
    { groupId: `${namespace}.scheduling`, topic: `${namespace}.payment.v1` },
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const outbox = await withPg(databaseUrl, async (c) =>
        Number((await c.query(`SELECT (SELECT count(*) FROM scheduling.outbox) + (SELECT count(*) FROM payment.outbox) AS n`)).rows[0].n),
      );
      let lag = 0;
      for (const { groupId, topic } of groups) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          lag += Number(end.high) - Math.max(0, Number(at));
        }
      }
      if (outbox === 0 && lag === 0) return Date.now() - started;
      if (Date.now() - started > 180_000) throw new Error(`saga bench: the pipeline did not drain (outbox ${outbox}, lag ${lag})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
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

const round = (n: number) => Math.round(n * 10) / 10;
