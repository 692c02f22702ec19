import { Context, context, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { contextFromTraceparent, isTracingEnabled, TRACEPARENT, tracer } from './propagation';

export type ConsumerSpan = { span: Span; context: Context; run: <T>(fn: () => T) => T };

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * The span of one consumed message: a CONSUMER span whose parent is the span that published it
 * (the message's `traceparent` header); a message without one (or with a malformed one) starts a
 * trace. Undefined when tracing is off.
 */
export function consumerSpan(group: string, topic: string, message: KafkaMessage, type: string): ConsumerSpan | undefined {
  if (!isTracingEnabled()) return undefined;
  const parent = contextFromTraceparent(header(message.headers, TRACEPARENT));
  const span = tracer().startSpan(
    `${type} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': group,
        'messaging.kafka.offset': Number(message.offset),
        'messaging.message.type': type,
      },
    },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  return { span, context: ctx, run: (fn) => context.with(ctx, fn) };
}

/** Ends a span, recording the error that ended its work, if any. */
export function endSpan(span: { span: Span } | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) {
    span.span.recordException(error as Error);
    span.span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  }
  span.span.end();
}

/**
 * The PRODUCER span of one outbox row published by the relay: a child of the context stored with the
 * row when it was written (the request or event that caused it), so the trace crosses the outbox.
 * Returns the `traceparent` to send as the message's header (the row's own when tracing is off here).
 */
export function publishSpan(topic: string, type: string, storedTraceparent: string | null): { traceparent: string | null; span?: Span } {
  if (!isTracingEnabled() || storedTraceparent === null) return { traceparent: storedTraceparent };
  const parent = contextFromTraceparent(storedTraceparent);
  const span = tracer().startSpan(
    `${type} publish`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': topic, 'messaging.message.type': type } },
    parent,
  );
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { traceparent: `00-${traceId}-${spanId}-${(traceFlags & 1).toString(16).padStart(2, '0')}`, span };
}
