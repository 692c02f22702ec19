import type { Knex } from 'knex';
import { counter, gauge, histogram, LATENCY_BUCKETS } from './registry';
import type { LagSample } from './kafka-metrics';

/** What one Platform (one service) reports when scraped; the gauges below ask every registered source. */
export type PlatformMetricsSource = {
  service: string;
  pools: Record<string, Knex>;
  /** Whether this instance's relay holds the outbox lock; absent for a service without Kafka, which relays nothing. */
  relayLeader?: () => boolean;
  /** Outbox rows waiting and the age of the oldest; undefined when this instance does not relay (a standby reports nothing). */
  outbox?: () => Promise<{ waiting: number; oldestAgeSeconds: number } | undefined>;
  lag: () => Promise<LagSample[]>;
};

const sources = new Set<PlatformMetricsSource>();

/** A slow or failing reading is left out of the scrape rather than failing or holding it. */
async function bounded<T>(reading: Promise<T>, ms = 2000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([reading.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type TarnPool = { numUsed(): number; numFree(): number; numPendingAcquires(): number };

function platformGauges() {
  gauge({
    name: 'pg_pool_connections',
    help: 'Postgres pool connections by pool (requests: HTTP and jobs; consumers: event handlers) and state (used, idle, waiting: callers queued for one).',
    labelNames: ['service', 'pool', 'state'] as const,
    collect() {
      this.reset();
      for (const source of sources) {
        for (const [pool, knex] of Object.entries(source.pools)) {
          const tarn = (knex.client as { pool?: TarnPool }).pool;
          if (!tarn) continue;
          this.set({ service: source.service, pool, state: 'used' }, tarn.numUsed());
          this.set({ service: source.service, pool, state: 'idle' }, tarn.numFree());
          this.set({ service: source.service, pool, state: 'waiting' }, tarn.numPendingAcquires());
        }
      }
    },
  });
  gauge({
    name: 'outbox_relay_lock_held',
    help: '1 when this instance holds the outbox relay lock (it is the one publishing), 0 when it stands by.',
    labelNames: ['service'] as const,
    collect() {
      this.reset();
      for (const { service, relayLeader } of sources) if (relayLeader) this.set({ service }, relayLeader() ? 1 : 0);
    },
  });
  // Both outbox gauges are collected at once by one scrape: they share one reading per source,
  // kept for half a second.
  type Backlog = { service: string; waiting: number; oldestAgeSeconds: number };
  let backlog: { at: number; readings: Promise<Backlog[]> } | undefined;
  const readBacklog = () => {
    if (!backlog || Date.now() - backlog.at > 500) {
      const readings = Promise.all(
        [...sources].map(async ({ service, outbox }) => {
          const reading = outbox && (await bounded(outbox()));
          return reading && { service, ...reading };
        }),
      ).then((all) => all.filter((r): r is Backlog => r !== undefined));
      backlog = { at: Date.now(), readings };
    }
    return backlog.readings;
  };
  gauge({
    name: 'outbox_rows_waiting',
    help: 'Outbox rows not yet published (reported by the instance holding the relay lock; counted up to 100000).',
    labelNames: ['service'] as const,
    async collect() {
      const readings = await readBacklog();
      this.reset();
      for (const r of readings) this.set({ service: r.service }, r.waiting);
    },
  });
  gauge({
    name: 'outbox_oldest_row_age_seconds',
    help: 'Age of the oldest outbox row not yet published; 0 when none waits (reported by the instance holding the relay lock).',
    labelNames: ['service'] as const,
    async collect() {
      const readings = await readBacklog();
      this.reset();
      for (const r of readings) this.set({ service: r.service }, r.oldestAgeSeconds);
    },
  });
  gauge({
    name: 'kafka_consumer_lag',
    help: 'Messages a consumer group has yet to handle, per partition: log end offset minus committed offset (read at most every 5 s).',
    labelNames: ['group', 'topic', 'partition'] as const,
    async collect() {
      this.reset();
      const readings = await Promise.all([...sources].map((source) => bounded(source.lag(), 3000)));
      for (const samples of readings) for (const s of samples ?? []) this.set({ group: s.group, topic: s.topic, partition: String(s.partition) }, s.lag);
    },
  });
}

/** Counters and histograms a Platform updates as it works. */
export function platformMetrics() {
  platformGauges();
  return {
    relayRound: histogram({
      name: 'outbox_relay_round_duration_seconds',
      help: 'Time of one outbox relay round: delete what was sent, read the next rows, send them and wait for the acknowledgement.',
      labelNames: ['service'] as const,
      buckets: LATENCY_BUCKETS,
    }),
    relayed: counter({
      name: 'outbox_rows_published_total',
      help: 'Outbox rows published to Kafka (and acknowledged).',
      labelNames: ['service'] as const,
    }),
    started: gauge({
      name: 'service_started',
      help: '1 once the service finished starting (migrations, topics, relay, listening session) until it begins to stop.',
      labelNames: ['service'] as const,
    }),
    inboxSwept: counter({
      name: 'inbox_rows_swept_total',
      help: 'Inbox rows deleted by the retention sweep (INBOX_RETENTION_HOURS).',
      labelNames: ['service'] as const,
    }),
  };
}

/** Reports a platform's gauges until the returned function is called (at stop). */
export function registerPlatformSource(source: PlatformMetricsSource): () => void {
  platformMetrics();
  sources.add(source);
  return () => sources.delete(source);
}
