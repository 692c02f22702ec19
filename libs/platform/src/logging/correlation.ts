import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';

/**
 * What work carries from its cause: the correlation id, the event that caused it, and the trace
 * context its effects continue (set by consumers per event; see eventCorrelation).
 */
export type CorrelationContext = { correlationId: string; causationId?: string; trace?: Context };

const storage = new AsyncLocalStorage<CorrelationContext>();

/** Runs `fn` with a correlation id that logs, outbox rows and Kafka headers pick up. */
export function withCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}

export function correlationIdOrNew(): string {
  return storage.getStore()?.correlationId ?? randomUUID();
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's id only if it is short and safe to log; otherwise makes a new one. */
export function acceptCorrelationId(candidate: unknown): string {
  return typeof candidate === 'string' && CORRELATION_ID.test(candidate) ? candidate : randomUUID();
}
