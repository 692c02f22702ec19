import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { fixKafkajsIdleTimer } from '@booking/platform';
import { BenchRow, percentile, RunningService, withPg } from './lib';

const DAY = 86_400_000;

type Sample = { sentAt: number; confirmedAt?: number };

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
  const rate = opts.rate ?? 100;
  const seconds = opts.seconds ?? (quick ? 5 : 20);
  // The services run with it; the bench's own clients should not spin either (see fixKafkajsIdleTimer).
  fixKafkajsIdleTimer();
  const kafka = new Kafka({ brokers, clientId: `${namespace}-bench`, logLevel: logLevel.NOTHING });

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

  const samples = new Map<string, Sample>();
  const consumer = kafka.consumer({ groupId: `${namespace}-saga-bench-${Date.now()}`, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topic: `${namespace}.scheduling.appointment.v1`, fromBeginning: false });
  let assigned!: () => void;
  const ready = new Promise<void>((resolve) => (assigned = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => assigned());
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (String(message.headers?.['event-type']) !== 'AppointmentConfirmed') return;
      const sample = samples.get(String(message.key));
      if (sample && !sample.confirmedAt) sample.confirmedAt = Date.now();
    },
  });
  await ready;

  const base = Math.floor(Date.now() / DAY) * DAY + 3 * DAY;
  let n = 0;
  const failures: string[] = [];
  const inflight: Promise<void>[] = [];
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      while (n < due && n < rate * seconds) {
        const start = new Date(base + n++ * 5 * 60_000).toISOString();
        const sentAt = Date.now();
        inflight.push(
          fetch(`${scheduling.url}/appointments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ providerId, clientId: 'bench', start, client: { timeZone: 'UTC' }, paymentMethod: 'tok_success' }),
          }).then(async (res) => {
            const body = (await res.json()) as { id?: string; code?: string };
            if (res.status !== 201 || !body.id) failures.push(`${res.status} ${body.code}`);
            else samples.set(body.id, { sentAt });
          }),
        );
      }
      if (n >= rate * seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all(inflight);
  const deadline = Date.now() + 30_000;
  while ([...samples.values()].some((s) => !s.confirmedAt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  if (failures.length) throw new Error(`saga bench: ${failures.length} bookings failed, e.g. ${failures[0]}`);
  const latencies = [...samples.values()].filter((s) => s.confirmedAt).map((s) => s.confirmedAt! - s.sentAt).sort((a, b) => a - b);
  const unconfirmed = samples.size - latencies.length;
  if (unconfirmed > 0) throw new Error(`saga bench: ${unconfirmed} of ${samples.size} bookings never confirmed`);

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
      note: 'every confirmed booking has exactly one charge',
    },
  ];
}

async function kafkaRoundTrip(kafka: Kafka, namespace: string, rate: number, seconds: number) {
  const topic = `${namespace}.bench.roundtrip`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `${namespace}-roundtrip`, maxWaitTimeInMs: 10 });
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
