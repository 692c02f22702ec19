import type { IncomingMessage } from 'node:http';
import { context, propagation, Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResult, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation, PgRequestHookInformation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler, ReadableSpan, SpanExporter, SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { counter } from '../metrics/registry';
import { markTracingEnabled } from './propagation';

/** The query text attribute of the semantic conventions the pg instrumentation writes. */
const ATTR_DB_QUERY_TEXT = 'db.query.text';

export type Tracing = { shutdown: () => Promise<void> };

/** Tracing is on when an OTLP endpoint is configured and the SDK is not disabled (the standard OTEL_* variables). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

const positive = (value: string | undefined, fallback: number) => {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
};

function exportMetrics() {
  return {
    dropped: counter({ name: 'otel_spans_dropped_total', help: 'Finished spans dropped because the export queue (OTEL_BSP_MAX_QUEUE_SIZE) was full: the OTLP endpoint is unreachable or too slow.' }),
    exported: counter({ name: 'otel_spans_exported_total', help: 'Spans handed to the OTLP exporter, by outcome (success, failure).', labelNames: ['outcome'] as const }),
  };
}

/**
 * The BatchSpanProcessor's queue, bounded and counted: a span that finds it full is dropped and counted
 * in `otel_spans_dropped_total` (the SDK drops it silently). `queued` mirrors the processor's queue:
 * spans go in at `onEnd` and leave when the processor hands them to the exporter.
 */
class CountedQueue implements SpanProcessor {
  private queued = 0;
  private readonly metrics = exportMetrics();
  private readonly processor: BatchSpanProcessor;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly maxQueueSize: number,
    options: { scheduledDelayMillis: number; exportTimeoutMillis: number; maxExportBatchSize: number },
  ) {
    const counting: SpanExporter = {
      export: (spans, done) => this.export(spans, done),
      shutdown: () => this.exporter.shutdown(),
      forceFlush: () => this.exporter.forceFlush?.() ?? Promise.resolve(),
    };
    this.processor = new BatchSpanProcessor({ ...options, maxQueueSize, exporter: counting });
  }

  onStart(...args: Parameters<SpanProcessor['onStart']>): void {
    this.processor.onStart(...args);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.queued >= this.maxQueueSize) {
      this.metrics.dropped.inc();
      return;
    }
    this.queued++;
    this.processor.onEnd(span);
  }

  private export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.queued = Math.max(0, this.queued - spans.length);
    this.exporter.export(spans, (result) => {
      this.metrics.exported.inc({ outcome: result.code === 0 ? 'success' : 'failure' }, spans.length);
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.processor.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.processor.shutdown();
  }
}

/** Health probes and scrapes are not traced: they would be most of the spans and say nothing. */
const untraced = (request: IncomingMessage) => {
  const url = request.url ?? '';
  return url.startsWith('/health') || url.startsWith('/metrics');
};

/** How much of a prepared statement's text a query span keeps (`db.query.text`). */
export const NAMED_STATEMENT_TEXT_LIMIT = 200;

/** Keeps the start of a named (prepared) statement's text in its span; an unnamed query keeps all of its text. */
export function shortenNamedStatement(span: Span, info: PgRequestHookInformation): void {
  const { name, text } = info.query;
  if (name && text.length > NAMED_STATEMENT_TEXT_LIMIT) span.setAttribute(ATTR_DB_QUERY_TEXT, `${text.slice(0, NAMED_STATEMENT_TEXT_LIMIT)}…`);
}

/**
 * Starts OpenTelemetry tracing for one service process, configured by the standard variables:
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (OTLP/HTTP; without either, or
 * with `OTEL_SDK_DISABLED=true`, nothing starts and nothing is exported), `OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`, `OTEL_BSP_*` (queue, batch, delay, timeout).
 *
 * Must run before http and pg are first required (each service's `tracing.ts`, imported first by its
 * `main.ts`): the instrumentations patch those modules as they load. Kafka spans are made explicitly by
 * the platform (the outbox carries a trace context across its relay, which no instrumentation knows).
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingEnabled(env)) return undefined;
  const queue = new CountedQueue(new OTLPTraceExporter(), positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048), {
    scheduledDelayMillis: positive(env.OTEL_BSP_SCHEDULE_DELAY, 1000),
    exportTimeoutMillis: positive(env.OTEL_BSP_EXPORT_TIMEOUT, 30000),
    maxExportBatchSize: positive(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512),
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || service }),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [queue],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  markTracingEnabled();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: untraced, requireParentforOutgoingSpans: true }),
      // Only queries made on behalf of something traced: the relay's and pollers' rounds start no traces.
      // No spans for opening connections (the pools keep theirs), and a prepared statement's text is
      // cut short: the span is named after the statement (`pg.query:<name>`), which the code spells out
      // in full, and the booking statement's text alone was a third of the bytes a booking exported.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true, requestHook: shortenNamedStatement }),
    ],
  });
  return {
    shutdown: async () => {
      await provider.shutdown().catch(() => undefined);
    },
  };
}
