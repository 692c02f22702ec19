import { collectDefaultMetrics, Counter, CounterConfiguration, Gauge, GaugeConfiguration, Histogram, HistogramConfiguration, register } from 'prom-client';

/**
 * Every metric of a process lives in prom-client's global registry: a service is one process, and
 * /metrics serves that registry. Metrics are made on first use and found again by name afterwards, so
 * a test process that boots several apps (or the same app twice) shares them instead of failing on a
 * second registration.
 */
export const metricsRegistry = register;

let defaultsCollected = false;

/** The library's runtime metrics (event-loop lag, heap, GC, handles, CPU), once per process. */
export function collectRuntimeMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register });
}

export function counter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
  return (register.getSingleMetric(config.name) as Counter<L> | undefined) ?? new Counter(config);
}

export function gauge<L extends string>(config: GaugeConfiguration<L>): Gauge<L> {
  return (register.getSingleMetric(config.name) as Gauge<L> | undefined) ?? new Gauge(config);
}

export function histogram<L extends string>(config: HistogramConfiguration<L>): Histogram<L> {
  return (register.getSingleMetric(config.name) as Histogram<L> | undefined) ?? new Histogram(config);
}

/** Buckets for work measured in milliseconds to seconds (handlers, relay rounds, HTTP answers). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Elapsed seconds since a `process.hrtime.bigint()` reading. */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
