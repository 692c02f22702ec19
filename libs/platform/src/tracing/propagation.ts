import { Context, context, propagation, ProxyTracerProvider, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Envelope } from '@booking/contracts';
import { currentCorrelation, withCorrelation } from '../logging/correlation';

let enabled = false;

/** Set by `startTracing`: without it, the platform makes no spans (the API's no-op would cost a little per event). */
export function markTracingEnabled(): void {
  enabled = true;
}

export function isTracingEnabled(): boolean {
  return enabled;
}

/** The W3C header that carries a trace context over HTTP and in Kafka message headers. */
export const TRACEPARENT = 'traceparent';

export const tracer = () => trace.getTracer('@booking/platform');

/**
 * The trace context new outbox rows and outgoing calls continue: the one the current correlation names
 * (set per event by a consumer; see `eventCorrelation`), else the active one. Null when nothing is traced
 * (tracing off, or no span), which costs a lookup and no allocation.
 */
export function currentTraceContext(): Context {
  return currentCorrelation()?.trace ?? context.active();
}

/** `00-<trace id>-<span id>-<flags>` of the current trace context, or null. */
export function currentTraceparent(): string | null {
  const span = trace.getSpanContext(currentTraceContext());
  if (!span || !trace.isSpanContextValid(span)) return null;
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, '0')}`;
}

/** The context a `traceparent` names; a missing or malformed one is no parent (a new trace starts). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent });
}

/** Adds the current trace context (`traceparent`) to outgoing HTTP headers. */
export function injectTraceparent(headers: Record<string, string>): void {
  propagation.inject(currentTraceContext(), headers);
}

const eventTraces = new WeakMap<Envelope, Context>();

/** Remembers the context of the span that handles `event`, for `eventCorrelation`. */
export function setEventTrace(event: Envelope, span: Span): void {
  eventTraces.set(event, trace.setSpan(ROOT_CONTEXT, span));
}

/**
 * The correlation a handler runs an event's effects in: its correlation id, the event as causation,
 * and the consumer's span for it — so the events it causes continue its trace even when a batch
 * handler writes the effects of many events in one transaction.
 */
export function eventCorrelation(event: Envelope) {
  return { correlationId: event.correlationId, causationId: event.eventId, trace: eventTraces.get(event) };
}

/** Runs `fn` in a span of its own under the current trace context; the span records a failure. */
export async function inSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>, kind = SpanKind.INTERNAL): Promise<T> {
  if (!enabled) return fn();
  const parent = currentTraceContext();
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await runInTrace(trace.setSpan(parent, span), fn);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

/** Runs `fn` with `ctx` as the active trace context, also for the current correlation (which outbox rows read). */
export function runInTrace<T>(ctx: Context, fn: () => T): T {
  const correlation = currentCorrelation();
  return context.with(ctx, () => (correlation ? withCorrelation({ ...correlation, trace: ctx }, fn) : fn()));
}

/** Exports the spans still queued (at shutdown), waiting at most `ms`: a stuck endpoint must not hold up a stop. */
export async function flushTraces(ms = 2000): Promise<void> {
  if (!enabled) return;
  const provider = trace.getTracerProvider();
  const delegate = (provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider) as { forceFlush?: () => Promise<void> };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    delegate.forceFlush?.().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
